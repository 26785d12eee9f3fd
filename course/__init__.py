"""Backprop from Scratch: what the student notebooks import (data sets, figures, widgets).

This package never imports ``autograder`` (the instructor's grading code); tests/test_layout.py checks that.
"""
__all__ = ["data", "depth", "digits", "explorer", "plots"]
