"""Browser tests of the JupyterLab panel (a package, so its conftest does not shadow tests/conftest.py)."""
