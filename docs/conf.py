"""Sphinx configuration for pycares_ng's documentation."""
project = "pycares_ng"
author = "pycares_ng developers"
extensions = ["sphinx.ext.autodoc"]
exclude_patterns = ["_build"]
html_theme = "alabaster"
nitpicky = False
