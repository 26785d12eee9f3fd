"""What people read after a grading run: the class report (report.html and its figures), the CLI's grade table and
the students' feedback (nbgrader's generate_feedback with the hidden tests taken out). Reads plain Outcome data."""
