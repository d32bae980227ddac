"""``minitorch-rnn gradflow``: the table of relative gradient norms, the plot, and the errors."""

from __future__ import annotations

import builtins
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from minitorch_rnn.examples.gradflow import relative_to_last

TINY = ("--steps", "12", "--hidden", "6", "--train-steps", "3", "--batch-size", "4",
        "--probe-size", "8", "--no-progress")  # fmt: skip


def _table_rows(output: str) -> dict[tuple[str, str], list[float]]:
    """(cell label, moment) -> the relative norms printed for it."""
    rows = {}
    table = output.split("relative gradient norm", 1)[1]
    for line in table.splitlines()[2:]:
        for moment in ("init", "trained"):
            label, found, numbers = line.partition(f" {moment} ")
            if found and label.strip():
                rows[(label.strip(), moment)] = [float(v) for v in numbers.split()]
    return rows


def test_table_shows_every_cell_before_and_after_training(cli: Callable[..., Any]) -> None:
    result = cli("gradflow", *TINY)
    assert result.code == 0, result.err
    assert "k=0" in result.out and "k=11" in result.out
    rows = _table_rows(result.out)
    labels = ["RNN (tanh)", "IRNN (relu, identity)", "GRU", "LSTM"]
    assert set(rows) == {(label, moment) for label in labels for moment in ("init", "trained")}
    for values in rows.values():
        assert values[0] == 1.0 and len(values) == 5  # k = 0, 1, 5, 10 and 11 = T - 1, relative
    # 11 steps back, the tanh RNN's gradient is the smallest; the identity-initialised IRNN's
    # has hardly shrunk
    far = {label: rows[(label, "init")][-1] for label in labels}
    assert far["RNN (tanh)"] == min(far.values()) and far["IRNN (relu, identity)"] > 0.1


def test_plot_is_a_png(cli: Callable[..., Any], tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    path = tmp_path / "flow.png"
    result = cli("gradflow", *TINY, "--cells", "rnn,lstm", "--plot", str(path), "--summary")
    assert result.code == 0, result.err
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert result.out.count("Total params") == 2  # --summary of each model


def test_missing_matplotlib_exits_2_up_front_with_the_install_hint(
    cli: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_import = builtins.__import__

    def no_matplotlib(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.split(".")[0] == "matplotlib":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    result = cli("gradflow", *TINY, "--plot", str(tmp_path / "flow.png"))
    result.assert_one_line_error("pip install 'minitorch_rnn[plot]'")
    assert result.out == ""  # nothing was trained


@pytest.mark.parametrize(
    ("argv", "fragments"),
    [
        (["--cells", "rnn,tcn"], ["--cells", "comma-separated list"]),
        (["--steps", "1"], ["--steps must be at least 2"]),
        (["--train-steps", "0"], ["--train-steps", "positive integer"]),
        (["--plot", "flow.jpg"], ["must end in .png"]),
    ],
)
def test_bad_arguments_exit_2_with_one_line(
    cli: Callable[..., Any], argv: list[str], fragments: list[str]
) -> None:
    cli("gradflow", *argv).assert_one_line_error(*fragments)


def test_relative_norms_run_from_the_last_step_back_and_start_at_one() -> None:
    np.testing.assert_allclose(relative_to_last(np.array([1.0, 2.0, 4.0])), [1.0, 0.5, 0.25])
