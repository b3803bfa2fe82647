"""The training stage: the loop (fit), evaluation, metrics, diagnosis, training-time callbacks."""
