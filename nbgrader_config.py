"""nbgrader configuration. The directory holding this file is the nbgrader course directory (run nbgrader from it).

Instructor commands (`make build`, `make demo`, `python -m autograder ...`) pass a gradebook path outside the repo, so
no gradebook.db is ever committed.
"""
from nbgrader.preprocessors import ClearHiddenTests, ClearMarkScheme, ClearOutput, Execute, IncludeHeaderFooter, LockCells

from autograder.grading.written import AddRubrics
from autograder.report.feedback import CleanFeedback, FeedbackExporter, MarkWaiting

c = get_config()  # noqa: F821 (provided by traitlets when nbgrader loads this file)

c.CourseDirectory.course_id = "backprop-from-scratch"
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.solution_directory = "solutions"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"

# Release: nbgrader's stub for every solution region.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}

# Solutions: executed, and without the hidden tests (generate_solution keeps them by default).
c.GenerateSolution.preprocessors = [IncludeHeaderFooter, LockCells, ClearOutput, ClearMarkScheme, ClearHiddenTests,
                                    Execute]

# Autograde: students cannot escape a test by deleting its cell (put back where it was, even after a read-only cell,
# where nbgrader's own OverwriteCells fails: autograder/grading/restore.py), and every cell has a time limit.
from nbgrader.preprocessors import CheckCellMetadata, DeduplicateIds, OverwriteKernelspec  # noqa: E402

from autograder.grading.restore import RestoreDeletedCells  # noqa: E402

c.OverwriteCells.add_missing_cells = True
c.Autograde.sanitize_preprocessors = [ClearOutput, DeduplicateIds, OverwriteKernelspec, RestoreDeletedCells,
                                      CheckCellMetadata]
c.Execute.timeout = 60
c.Execute.interrupt_on_timeout = True
# ... and graders see each written answer's model answer and rubric under it in the formgrader (never in feedback).
from nbconvert.preprocessors import ClearMetadataPreprocessor  # noqa: E402
from nbgrader.preprocessors import AssignLatePenalties, IgnorePattern, LimitOutput, SaveAutoGrades  # noqa: E402

c.Autograde.autograde_preprocessors = [Execute, IgnorePattern, ClearMetadataPreprocessor, LimitOutput, SaveAutoGrades,
                                       AssignLatePenalties, CheckCellMetadata, AddRubrics]

# Feedback: show the points and the diagnosis of every test cell, never the hidden tests' source or a rubric; say which
# written answers no person has graded yet.
from nbgrader.preprocessors import GetGrades  # noqa: E402
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor  # noqa: E402

c.GenerateFeedback.preprocessors = [CleanFeedback, GetGrades, MarkWaiting, CSSHTMLHeaderPreprocessor]
# ... rendered by nbconvert's HTML exporter with nbgrader's template, compiled once per worker (report/feedback.py).
c.GenerateFeedback.exporter_class = FeedbackExporter

# ---- Exchange (issue 9): the round trip through nbgrader's exchange, as on a shared course server. -----------------
# Instructor steps: `python -m autograder exchange release|collect|autograde|feedback|release-feedback ASSIGNMENT`.
# How to run the course on one shared machine or on JupyterHub: docs/exchange.md.
import os as _os  # noqa: E402

from autograder.grading.exchange import LatePenalty  # noqa: E402

# The exchange: $BACKPROP_EXCHANGE, or else exchange/ next to this file (the course run directory, run/course/, which
# is git-ignored). A shared server sets BACKPROP_EXCHANGE (or edits this line), e.g. /srv/nbgrader/exchange.
c.Exchange.root = _os.environ.get("BACKPROP_EXCHANGE",
                                  _os.path.join(_os.path.dirname(_os.path.abspath(__file__)), "exchange"))
# Students' copies go to ~/<course_id>/<assignment>/, so two courses with the same assignment names never collide.
c.Exchange.path_includes_course = True
c.Exchange.timezone = "UTC"

# Due dates (UTC), one per assignment. `python -m autograder exchange release` and `autograde` write them into the
# gradebook; an assignment not listed has no due date. Example: {"01_chain_rule": "2027-02-01 23:59:00 UTC"}
c.CourseSchedule.due_dates = {}

# Late work loses 10 % of its score per started day (24 h) past the due date; 10 days or more late scores zero.
c.AssignLatePenalties.plugin_class = LatePenalty
c.LatePenalty.percent_per_day = 10.0
