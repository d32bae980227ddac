"""Helpers shared by several test modules, imported normally (``from tests.helpers import ...``).

Fixtures stay in ``conftest.py`` files; plain functions and classes that tests call live here.
"""
