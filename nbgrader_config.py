"""nbgrader configuration. The directory holding this file is the nbgrader course directory (run nbgrader from it).

Instructor commands (`make build`, `make demo`, `python -m autograder ...`) pass a gradebook path outside the repo, so
no gradebook.db is ever committed.
"""
from nbgrader.preprocessors import ClearHiddenTests, ClearMarkScheme, ClearOutput, Execute, IncludeHeaderFooter, LockCells

from autograder.feedback import CleanFeedback

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

# Autograde: students cannot escape a test by deleting its cell, and every cell has a time limit.
c.OverwriteCells.add_missing_cells = True
c.Execute.timeout = 60
c.Execute.interrupt_on_timeout = True

# Feedback: show the points and the diagnosis of every test cell, never the hidden tests' source.
from nbgrader.preprocessors import GetGrades  # noqa: E402
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor  # noqa: E402

c.GenerateFeedback.preprocessors = [CleanFeedback, GetGrades, CSSHTMLHeaderPreprocessor]
