"""The data stage: the task registry and its built-in tasks, uploaded datasets, text blobs."""
