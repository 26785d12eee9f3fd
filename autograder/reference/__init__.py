"""The instructor's reference networks: what the hidden checks differentiate numerically and compare with."""
