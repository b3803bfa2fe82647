"""Using a trained model: predict, serve, the take-home bundle and the code writers of its train.py."""
