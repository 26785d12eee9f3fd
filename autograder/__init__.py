"""Backprop from Scratch's instructor side (never imported by student notebooks; see docs/architecture.md).

Rooms, from the top: cli/ (the verbs an instructor runs), authoring/ (source/ into release/, solutions/ and the demo
class), grading/ (the engine: workers, judge, sandbox, gradebook, exchange, LMS intake), report/ (what people read of
the outcomes), checks/ (what is true of a correct answer), reference/ (the networks the checks compare with) and
protocol/ (how a check in the judge reaches a student's function in the kernel). outcome.py is the record they share.
"""
