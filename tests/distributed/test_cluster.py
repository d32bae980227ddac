"""The multi-node recipe of docs/distributed.md, run for real: a head node with token
authentication, a second node joining it, and a driver training through the head's address.

Both nodes run on this machine with their own ports, temp folder and home folder (so that neither
the second node nor the driver can read the head's token file: they get the token as a remote
machine would, through the environment). The nodes are stopped by their PIDs. About 40 s; marked
``ray_cluster`` (deselect with ``-m "not ray_cluster"``).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("ray")

ROOT = Path(__file__).resolve().parents[2]
RAY = shutil.which("ray", path=str(Path(sys.executable).parent)) or shutil.which("ray")

DRIVER = """
import sys
import numpy as np
import ray
import minitorch_rnn as mt
from minitorch_rnn.distributed import RayStrategy

x = np.random.default_rng(0).standard_normal((16, 5, 3))
y = np.random.default_rng(1).integers(0, 4, (16, 5))
model = mt.Sequential(mt.Unroll(mt.GRUCell(3, 8, seed=0)), mt.Dense(8, 4, seed=1))
strategy = RayStrategy(num_workers=2, address=sys.argv[1])
trainer = mt.Trainer(
    model, mt.CrossEntropyLoss(), mt.optim.Adam(model.parameters(), lr=0.01), strategy=strategy
)
history = trainer.fit(x, y, epochs=2, batch_size=8, progress=False)
alive = [node for node in ray.nodes() if node["Alive"]]
print("nodes", len(alive), "epochs", len(history["loss"]), "loss", history["loss"][-1])
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _pids_using(folder: str) -> list[int]:
    """The processes whose command line names ``folder`` (every Ray process of our nodes)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if folder.encode() in command:
            pids.append(int(entry.name))
    return pids


def _stop(folder: str) -> None:
    """SIGTERM every process of our nodes, then SIGKILL what is left after 10 s."""
    for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 2.0)):
        pids = _pids_using(folder)
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + wait
        while _pids_using(folder) and time.monotonic() < deadline:
            time.sleep(0.2)


def _ray(env: dict[str, str], *arguments: str) -> subprocess.CompletedProcess[str]:
    assert RAY is not None
    return subprocess.run(
        [RAY, *arguments], env=env, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture(scope="module")
def cluster() -> Iterator[tuple[str, str, dict[str, str]]]:
    """``(address, token, environment of a machine without the token)`` of a two-node cluster."""
    if RAY is None:
        pytest.skip("the ray command is not installed")
    # a short folder: Ray's socket paths must stay under the 107 characters of AF_UNIX
    folder = tempfile.mkdtemp(prefix="mtrc", dir="/tmp")
    head_home, node_home = Path(folder, "head-home"), Path(folder, "node-home")
    head_home.mkdir()
    node_home.mkdir()
    base = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "PYTHONPATH": str(ROOT)}
    base.pop("RAY_ADDRESS", None)
    head_env = {**base, "HOME": str(head_home), "RAY_AUTH_MODE": "token"}
    port = _free_port()
    try:
        generated = _ray(head_env, "get-auth-token", "--generate")
        assert generated.returncode == 0, generated.stderr
        token = (head_home / ".ray" / "auth_token").read_text().strip()
        head = _ray(
            head_env,
            "start",
            "--head",
            f"--port={port}",
            "--num-cpus=1",
            "--include-dashboard=false",
            f"--dashboard-port={_free_port()}",
            f"--temp-dir={folder}/ray",
            "--disable-usage-stats",
        )
        assert head.returncode == 0, head.stderr[-2000:]
        address = f"127.0.0.1:{port}"
        remote = {**base, "HOME": str(node_home)}  # a machine that has not got the token file
        joined = _ray(
            {**remote, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": token},
            "start",
            f"--address={address}",
            "--num-cpus=1",
            "--disable-usage-stats",
        )
        assert joined.returncode == 0, joined.stderr[-2000:]
        yield address, token, remote
    finally:
        _stop(folder)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.ray_cluster
def test_a_driver_with_the_token_trains_over_both_nodes_of_a_cluster_with_authentication(
    cluster: tuple[str, str, dict[str, str]],
) -> None:
    address, token, remote = cluster
    driver = subprocess.run(
        [sys.executable, "-c", DRIVER, address],
        env={**remote, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": token},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert driver.returncode == 0, driver.stderr[-3000:]
    words = driver.stdout.split()
    # two nodes of one CPU each: the two workers of one CPU run one on each node
    assert words[:4] == ["nodes", "2", "epochs", "2"], driver.stdout
