"""Streamlit helpers shared by the pages: translations, cached store and runner, forms, live charts.

Only this package and app_pages/ import Streamlit; the rest of modelkit stays free of it.
"""
