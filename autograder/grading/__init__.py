"""The grading engine: a class run on a pool of long-lived nbgrader workers, one judge per worker, sandboxed student
kernels, the gradebook, nbgrader's exchange and LMS zip intake."""
