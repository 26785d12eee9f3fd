"""The gradebook's URL comes from one place (``nbg.db_url``): sqlite in the course directory by default, the URL that
``--db`` recorded otherwise; and grading without ``--scheduler`` never imports Dask."""
import os
import subprocess
import sys

from autograder.grading import classrun, nbg
from conftest import ROOT


def test_sqlite_in_the_course_by_default(tmp_path):
    assert nbg.db_url(tmp_path) == f"sqlite:///{tmp_path / 'gradebook.db'}"


def test_db_records_a_url_for_every_later_step(tmp_path):
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"   # any SQLAlchemy URL (tests/test_cluster.py: PostgreSQL)
    course = classrun.prepare(tmp_path / "course", ROOT, db=url)
    assert nbg.db_url(course) == url
    assert os.stat(course / nbg.DB_URL_FILE).st_mode & 0o077 == 0, "the URL may hold a password: owner only"
    course = classrun.prepare(tmp_path / "course", ROOT)   # a new run without --db: back to sqlite
    assert nbg.db_url(course).startswith("sqlite:///")


def test_no_gradebook_is_opened_on_a_sqlite_path_of_its_own():
    """Every Gradebook(...) and nbgrader run in the engine goes through db_url (else --db would miss it)."""
    offenders = []
    for path in (ROOT / "autograder").rglob("*.py"):
        text = path.read_text()
        if "sqlite:///" in text and path.name not in ("nbg.py", "jupyterhub_config.py"):
            offenders.append(str(path.relative_to(ROOT)))
    assert not offenders, f"a sqlite URL built outside nbg.db_url: {offenders}"


def test_grading_without_scheduler_does_not_import_dask():
    code = ("import sys; import autograder.cli, autograder.cli.grade, autograder.grading.classrun, "
            "autograder.grading.exchange; print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('dask', 'distributed')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    assert out.strip() == "[]", out


def test_the_in_process_alembic_head_is_what_the_alembic_program_says(tmp_path):
    """Workers stamp new gradebooks with ``nbg.alembic_head`` instead of running ``alembic heads``: same revision."""
    from nbgrader.api import Gradebook
    from nbgrader.dbutil import _temp_alembic_ini

    with _temp_alembic_ini(f"sqlite:///{tmp_path / 'probe.db'}") as ini:
        said = subprocess.run([str(nbg.BIN / "alembic"), "-c", ini, "heads"], capture_output=True, text=True,
                              check=True, env=nbg.env()).stdout.split()[0]
    assert nbg.alembic_head() == said
    code = ("import sys; from autograder.grading import nbg; nbg.in_process_alembic_head(); "
            "from nbgrader.api import Gradebook; Gradebook(sys.argv[1]).close()")
    url = f"sqlite:///{tmp_path / 'new.db'}"
    subprocess.run([sys.executable, "-c", code, url], check=True, cwd=ROOT, env={**nbg.env(), "PATH": "/usr/bin:/bin"})
    with Gradebook(url) as gb:   # made without an alembic program on PATH; nbgrader opens it as its own
        from sqlalchemy import text
        assert gb.db.execute(text("SELECT version_num FROM alembic_version")).scalar() == said


def test_nbgrader_steps_stamp_a_new_gradebook_without_the_alembic_program(tmp_path):
    """``nbg.run`` (build, exchange, zip intake, the cluster's generate_assignment) starts nbgrader with the revision
    read in-process; ``plain`` is nbgrader's own program, which asks an ``alembic`` program (the spy proves it would
    be seen)."""
    from nbgrader.api import Gradebook
    from sqlalchemy import text

    spy_bin, calls = tmp_path / "spy", tmp_path / "alembic-calls"
    spy_bin.mkdir()
    (spy_bin / "alembic").write_text(f"#!/bin/sh\necho \"$@\" >> {calls}\nexec {nbg.BIN / 'alembic'} \"$@\"\n")
    (spy_bin / "alembic").chmod(0o755)
    course = classrun.prepare(tmp_path / "course", ROOT)
    path = f"{spy_bin}{os.pathsep}{nbg.env()['PATH']}"
    for plain, db in ((True, tmp_path / "plain.db"), (False, tmp_path / "ours.db")):
        calls.unlink(missing_ok=True)
        nbg.run(["generate_assignment", "01_chain_rule", "--force"], cwd=course, db=db, plain=plain,
                extra_env={"PATH": path})
        assert calls.exists() == plain, f"plain={plain}: alembic program called: {calls.exists()}"
        with Gradebook(f"sqlite:///{db}") as gb:
            assert gb.db.execute(text("SELECT version_num FROM alembic_version")).scalar() == nbg.alembic_head()
            assert [a.name for a in gb.assignments] == ["01_chain_rule"]
