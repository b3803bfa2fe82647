"""Data in, Plotly figure out: every chart the pages draw."""
