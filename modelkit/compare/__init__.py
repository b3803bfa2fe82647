"""Comparing runs: the race board, sweeps and the scale ladder."""
