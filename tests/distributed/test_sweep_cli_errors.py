"""``minitorch-rnn sweep subtract`` user errors: exit 2 with one line, before any Ray work.

No Ray is started in this module: every error here is found before the sweep would need one.
"""

from __future__ import annotations

import importlib.util

import pytest

from minitorch_rnn.cli import main

HAS_RAY = importlib.util.find_spec("ray") is not None


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--num-workers", "0"], "expected a positive integer"),
        (["--seeds", "x"], "invalid int value"),
        (["--hidden", "4", "4"], "--hidden repeats a value"),
        (["--output", "table.txt"], "--output must end in .csv or .json"),
        (["--plot", "/proc/missing-folder/plot.png"], "cannot write --plot"),
        (["--bits", "11"], "--bits must be between 1 and 10"),
        (["--nonlinearity", "softplus"], "invalid choice"),
        pytest.param(
            ["--address", "127.0.0.1:1"],
            "cannot join the Ray cluster at '127.0.0.1:1'",
            marks=pytest.mark.skipif(not HAS_RAY, reason="needs Ray"),
        ),
    ],
)
def test_bad_sweep_arguments_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], fragment: str
) -> None:
    try:
        code = main(["sweep", "subtract", "--epochs", "1", *argv])
    except SystemExit as exit_request:
        code = int(exit_request.code or 0)
    captured = capsys.readouterr()
    assert code == 2, captured
    assert len(captured.err.splitlines()) == 1 and fragment in captured.err, captured.err
    assert "Traceback" not in captured.err


def test_the_sweep_command_needs_an_application(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_request:
        main(["sweep"])
    assert exit_request.value.code == 2
    assert "required: APPLICATION" in capsys.readouterr().err
