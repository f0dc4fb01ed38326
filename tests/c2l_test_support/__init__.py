"""Helpers shared by the test modules (importable because pyproject.toml puts
``tests`` on pytest's ``pythonpath``)."""
