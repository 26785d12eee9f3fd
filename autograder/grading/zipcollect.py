"""An LMS download (Canvas, Moodle, Blackboard) into nbgrader's ``submitted/<student>/<assignment>/`` layout, through
nbgrader's own ``nbgrader zip_collect`` (run as a program, never reimplemented here).

nbgrader 0.9.6's zip_collect, as read in ``nbgrader/apps/zipcollectapp.py`` and ``nbgrader/plugins/zipcollect.py``:

- it extracts every ``.zip`` in ``downloaded/<assignment>/archive/`` into ``downloaded/<assignment>/extracted/<zip
  name>/`` (archives inside archives too, each into its own folder) and copies other files there as they are;
- ``FileNameCollectorPlugin.named_regexp`` is applied with ``re.match`` to the ABSOLUTE path of each extracted file
  whose extension is ``.ipynb`` (other files are skipped first), so every pattern below starts with ``^...*/``;
- the pattern must give ``student_id`` and ``file_id``; nbgrader writes ``submitted/<student_id>/<assignment>/
  <splitext(file_id)[0] + the file's own extension>``, so the patterns capture file_id without its extension (a stem
  with a dot in it loses what follows the dot: ``my.copy.ipynb`` lands as ``my.ipynb``);
- an optional ``timestamp`` is parsed by nbgrader (``dateutil``) into ``timestamp.txt``, which ``nbgrader autograde``
  reads for the late penalty, and is the only way nbgrader chooses between two files of one student with the same
  name: without it, such a pair stops the whole run ("Duplicate submission file. No timestamps for comparison");
- a notebook whose name is not one of ``release/<assignment>/``'s is collected with a warning (``--strict``, not
  used here, would drop it): the grader's precheck then reports it as "missing notebook ... renamed?".

The file names, as checked against the LMSs' source code (the patterns are the part of this module most likely to
need a tweak for another LMS version; ``collect_zip(regexp=...)`` takes your own):

- **Canvas** "Download Submissions" (``lib/content_zipper.rb`` in instructure/canvas-lms): ``<sortable name, lower
  case, only word characters>_[LATE_]<user id>_<attachment id>_<original file name>``; with anonymous grading the
  user id is ``anon_<anonymous id>`` and there is no name. A re-uploaded file whose name Canvas already holds becomes
  ``name-1.ext``, ``name-2.ext`` (``Attachment.make_unique_filename``). Student id: the numeric Canvas user id (the
  ``ID`` column of Canvas's gradebook export). The ``late`` group (not used by nbgrader) feeds
  ``ZipResult.late``: Canvas gives no time, so nbgrader applies no late penalty to these.
- **Moodle** "Download all submissions" (``mod/assign/locallib.php``, ``download_submissions``): one folder per
  student, ``<Full Name>_<participant id>_assignsubmission_file_/<file name>``, or, with "download submissions in
  folders" off (Moodle < 3.1 behaviour), flat files ``<Full Name>_<participant id>_assignsubmission_file_<file
  name>``. With blind marking the name is ``Participant``. Student id: the participant id, which Moodle assigns per
  assignment (``assign_user_mapping``): the "Participant N" of that assignment's grading worksheet, not a user id,
  so the same student has different ids in different assignments. Files in sub-folders and the ``onlinetext`` folder's
  ``onlinetext.html`` are skipped.
- **Blackboard** Learn (Original) Grade Center "Assignment File Download": ``<assignment name>_<user name>_attempt_
  <YYYY-MM-DD-HH-MM-SS>_<original file name>``, next to a ``..._attempt_<time>.txt`` with the student's comments
  (skipped: not a notebook). nbgrader's docs use this shape for their zip_collect example without naming the LMS;
  the shape was checked against third-party scripts that sort Blackboard downloads. A user name with ``_`` in it is
  cut to its last part: pass your own regexp then. Blackboard's time is the server's local time, unlabelled.

nbgrader's ``dateutil`` parse of ``2016-01-30-15-30-10`` gives 15:00 at UTC-10 (minutes dropped, the seconds read as a
time zone), so the blackboard pattern hands nbgrader only the date (correct, and enough for it to keep each
student's latest attempt: same-day attempts are read in name order, which is time order) and ``collect_zip`` then
rewrites ``timestamp.txt`` with the full time of the attempt nbgrader kept (the pattern's extra ``time`` group).

All three patterns also drop a browser's download suffix `` (1)`` before the extension (a student who downloaded the
release twice uploads ``01_chain_rule (1).ipynb``), and ignore macOS ``._*`` resource files (a duplicate would stop
nbgrader).
"""
from __future__ import annotations

import re
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from . import nbg

# The end of every pattern: file_id is the stem, less a Canvas "-N" (canvas only) or a browser " (N)"; then the
# extension (nbgrader puts the file's own back).
_STEM = r"(?P<file_id>[^/]+?)"
_BROWSER_COPY = r"(?: \(\d+\))?"
_EXT = r"\.[^./]+$"
_NO_APPLEDOUBLE = r"^(?!.*/\._)"

LMS_FORMATS: dict[str, str] = {
    # smithjohn_LATE_12345_678901_01_chain_rule-1.ipynb -> student 12345, file 01_chain_rule
    "canvas": (_NO_APPLEDOUBLE + r".*/(?:[^/]*?_)??(?P<late>LATE_)?(?P<student_id>\d+|anon_[0-9A-Za-z]+)_\d+_"
               + _STEM + r"(?:-\d+)?" + _BROWSER_COPY + _EXT),
    # Ada Lovelace_5001_assignsubmission_file_/01_chain_rule.ipynb -> student 5001, file 01_chain_rule
    "moodle": (_NO_APPLEDOUBLE + r".*/[^/]*_(?P<student_id>\d+)_assignsubmission_file_/?"
               + _STEM + _BROWSER_COPY + _EXT),
    # 01_chain_rule_jsmith_attempt_2024-03-01-14-05-09_01_chain_rule.ipynb -> student jsmith, file 01_chain_rule
    "blackboard": (_NO_APPLEDOUBLE + r".*/[^/]*_(?P<student_id>[^_/]+)_attempt_"
                   r"(?P<timestamp>\d{4}-\d{2}-\d{2})-(?P<time>\d{2}-\d{2}-\d{2})_"
                   + _STEM + _BROWSER_COPY + _EXT),
}


@dataclass
class ZipResult:
    students: list[str]          # student ids that got a submitted/<id>/<assignment>/ folder in this run
    skipped: list[str]           # one line per file that nbgrader skipped, naming the file
    warnings: list[str]          # other one-line warnings
    files: dict[str, list[str]] = field(default_factory=dict)   # student id -> file names written for them
    late: list[str] = field(default_factory=list)               # student ids whose file the LMS marked late


def check_regexp(regexp: str) -> re.Pattern:
    """The compiled pattern; ValueError unless it names the groups nbgrader needs."""
    try:
        pat = re.compile(regexp)
    except re.error as e:
        raise ValueError(f"invalid regexp {regexp!r}: {e}") from None
    missing = [g for g in ("student_id", "file_id") if g not in pat.groupindex]
    if missing:
        raise ValueError(f"regexp {regexp!r} lacks the named group(s) {', '.join(missing)} that nbgrader needs")
    return pat


def _stage(archive: Path, dest: Path) -> None:
    """Put the download into nbgrader's archive directory, emptied first so that no earlier download is re-read."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    if archive.is_dir():
        shutil.copytree(archive, dest, dirs_exist_ok=True)
    elif zipfile.is_zipfile(archive):
        # nbgrader extracts only names ending in .zip/.gz (case-sensitive): "Submissions.ZIP" would be copied as is.
        shutil.copy2(archive, dest / f"{archive.stem}.zip")
    elif archive.is_file():
        shutil.copy2(archive, dest / archive.name)
    else:
        raise FileNotFoundError(f"no such file or directory: {archive}")


_LOG = re.compile(r"^\[ZipCollectApp \| (?P<level>[A-Z]+)\] (?P<msg>.*)$")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def collect_zip(course: Path, assignment: str, archive: Path, regexp: str | None = None,
                fmt: str = "canvas") -> ZipResult:
    """Put `archive` (a .zip download from an LMS; also accept a directory of files) into
    course/downloaded/<assignment>/archive/, run `nbgrader zip_collect <assignment> --force` with
    FileNameCollectorPlugin.named_regexp = regexp or LMS_FORMATS[fmt] (via nbg.run with db=course/'gradebook.db'),
    and report what landed in course/submitted/.

    ``course`` needs ``release/<assignment>/`` (``nbgrader generate_assignment``) for the notebook-name check.
    Raises ValueError for an unknown format or a regexp without student_id/file_id, and RuntimeError (naming the
    student and file when nbgrader says which) when nbgrader stops, e.g. on two same-named files of one student.
    ``submitted/`` folders of students not in this download are left as they were.
    """
    if regexp is None:
        if fmt not in LMS_FORMATS:
            raise ValueError(f"unknown LMS format {fmt!r}: one of {', '.join(sorted(LMS_FORMATS))}, or pass regexp")
        regexp = LMS_FORMATS[fmt]
    pat = check_regexp(regexp)
    course = Path(course).resolve()
    root = course / "downloaded" / assignment
    _stage(Path(archive), root / "archive")
    extracted = root / "extracted"
    submitted = course / "submitted"

    res = nbg.run(["zip_collect", assignment, "--force", f"--FileNameCollectorPlugin.named_regexp={regexp}"],
                  cwd=course, db=nbg.db_url(course), check=False)

    def shown(path: str) -> str:
        """A file as the instructor knows it: its path inside the download."""
        try:
            rel = Path(path).relative_to(extracted)
        except ValueError:
            return Path(path).name
        if len(rel.parts) > 1 and (root / "archive" / f"{rel.parts[0]}.zip").exists():
            rel = rel.relative_to(rel.parts[0])  # the folder nbgrader extracted the zip into
        return str(rel)

    def student_of(path: str) -> str:
        m = pat.match(path)
        return m.group("student_id") if m else "?"

    skipped, warnings, errors = [], [], []
    files: dict[str, list[str]] = {}
    sources: dict[str, list[str]] = {}
    late: set[str] = set()
    current, copying_from, no_release = "", "", False
    for raw in res.output.splitlines():
        m = _LOG.match(_ANSI.sub("", raw).rstrip())
        if not m:
            continue
        level, msg = m["level"], m["msg"]
        if msg.startswith("Parsing file: "):
            current = msg[len("Parsing file: "):]
        elif msg.startswith("Skipped submission with no match information provided: "):
            path = msg.split(": ", 1)[1]
            ext = Path(path).suffix
            why = f"not a notebook ({ext or 'no extension'})" if ext != ".ipynb" else "name does not match the pattern"
            skipped.append(f"{shown(path)}: {why}")
        elif msg.startswith("Skipped notebook with invalid name "):
            skipped.append(f"{shown(current)}: {msg[len('Skipped notebook with '):]}")
        elif msg.startswith("Invalid submission notebook name ") and not no_release:
            name = msg[len("Invalid submission notebook name "):]
            warnings.append(f"invalid notebook name {name} for student {student_of(current)} ({shown(current)}): "
                            f"expected {assignment}.ipynb")
        elif msg.startswith("Skipped submission file with older timestamp"):
            warnings.append(f"older attempt of student {student_of(current)} not used: {shown(current)}")
        elif msg.startswith("Replacing previously collected submission file"):
            warnings.append(f"newer attempt of student {student_of(current)} used: {shown(current)}")
        elif msg.startswith("No release notebooks found"):
            no_release = True
            warnings.append(f"{msg}: notebook names were not checked (run nbgrader generate_assignment first)")
        elif msg.startswith("No files found in directory: ") and "the download holds no files" not in warnings:
            warnings.append("the download holds no files")
        elif msg.startswith("Copying from: "):
            copying_from = msg[len("Copying from: "):]
        elif msg.strip().startswith("Copying to: "):
            dest = Path(msg.strip()[len("Copying to: "):])
            try:
                rel = dest.relative_to(submitted)
            except ValueError:
                continue  # the extraction step's copies into extracted/
            files.setdefault(rel.parts[0], []).append(dest.name)
            sources.setdefault(rel.parts[0], []).append(copying_from)
            g = pat.match(copying_from)
            if g and "late" in pat.groupindex and g.group("late"):
                late.add(rel.parts[0])
        elif level in ("ERROR", "CRITICAL"):
            errors.append(msg)

    if res.returncode != 0:
        first = errors[0] if errors else (res.output.strip().splitlines() or ["no output"])[-1]
        where = f" at {shown(current)} (student {student_of(current)})" if current else ""
        raise RuntimeError(f"nbgrader zip_collect stopped{where}: {first}")

    if {"timestamp", "time"} <= set(pat.groupindex):
        _full_timestamps(pat, submitted, assignment, sources)
    return ZipResult(students=sorted(files), skipped=skipped, warnings=warnings,
                     files={s: sorted(f) for s, f in sorted(files.items())}, late=sorted(late))


def _full_timestamps(pat: re.Pattern, submitted: Path, assignment: str, sources: dict[str, list[str]]) -> None:
    """Rewrite timestamp.txt with date and time from the names of the files nbgrader kept (see the module doc)."""
    for student, srcs in sources.items():
        stamps = []
        for src in srcs:
            m = pat.match(src)
            if m and m.group("timestamp") and m.group("time"):
                stamps.append(f"{m.group('timestamp')} {m.group('time').replace('-', ':')}")
        if stamps:
            (submitted / student / assignment / "timestamp.txt").write_text(max(stamps))
