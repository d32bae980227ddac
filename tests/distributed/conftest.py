"""Markers of the Ray tests."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "ray_cluster: starts a real two-node Ray cluster on this machine (about 40 s)",
    )
