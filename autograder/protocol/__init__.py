"""The judge's wire protocol: how a hidden check running in the judge calls the student's functions in the kernel.
Standard library and numpy only, so the sandbox can give the kernel this package and nothing else of the grader."""
