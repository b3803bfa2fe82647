"""modelkit: pick an architecture, train it, watch it learn, compare. The engine (no Streamlit here)."""

__version__ = "0.1.0"
