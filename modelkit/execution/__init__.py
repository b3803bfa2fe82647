"""Running runs off the page: the runner, its worker processes, the Ray executor."""
