"""``python -m autograder``: the instructor's command line (autograder/cli/)."""
import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
