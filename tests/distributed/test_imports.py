"""The core never pulls in Ray: not on ``import minitorch_rnn``, not when the command line starts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("module", ["minitorch_rnn", "minitorch_rnn.cli"])
def test_importing_the_core_imports_no_ray(module: str) -> None:
    code = (
        f"import sys; import {module}; "
        "loaded = sorted(m for m in sys.modules if m == 'ray' or m.startswith('ray.')); "
        "print(loaded[:3]); sys.exit(1 if loaded else 0)"
    )
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=environment, check=False
    )
    assert done.returncode == 0, f"import {module} loaded Ray modules: {done.stdout}{done.stderr}"
