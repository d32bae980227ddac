"""``minitorch-rnn subtract``: a small RNN learns N-bit subtraction, printed as in the source."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from minitorch_rnn.serialization import read_meta

EXAMPLE = re.compile(
    r"  x1: \[(?P<a>[01, ]+)\]\n"
    r"- x2: \[(?P<b>[01, ]+)\]\n"
    r"-+\n"
    r"true: \[(?P<true>[01, ]+)\]\n"
    r"pred: \[(?P<pred>[01, ]+)\]\n"
    r"(?P<a_value>\d+) - (?P<b_value>\d+) = (?P<difference>\d+)\n"
)


def bits_value(text: str) -> int:
    """The value of a printed bit list, most significant bit first as the source shows it."""
    return int("".join(text.split(", ")), 2)


def examples(output: str) -> list[dict[str, str]]:
    return [match.groupdict() for match in EXAMPLE.finditer(output)]


def test_four_bit_subtraction_is_learnt_exactly(cli: Callable[..., Any], tmp_path: Path) -> None:
    checkpoint = tmp_path / "subtract.npz"
    result = cli("subtract", "--bits", "4", "--no-progress", "--save", str(checkpoint))
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0] == "136 pairs of 4-bit numbers; RNN (tanh) with 16 units, biases"
    assert any(line.startswith("exact-match accuracy 100.00% after ") for line in lines)
    shown = examples(result.out)
    assert len(shown) == 4  # --examples default
    for example in shown:
        a, b = int(example["a_value"]), int(example["b_value"])
        assert a >= b and int(example["difference"]) == a - b
        assert bits_value(example["a"]) == a and bits_value(example["b"]) == b
        assert bits_value(example["true"]) == a - b
        assert example["pred"] == example["true"]  # every pair is right
        assert len(example["a"].split(", ")) == 4
    meta = read_meta(checkpoint)
    assert (meta["app"], meta["bits"], meta["cell"], meta["hidden"]) == ("subtract", 4, "rnn", 16)


def test_two_bit_subtraction_runs(cli: Callable[..., Any]) -> None:
    result = cli("subtract", "--bits", "2", "--examples", "2", "--no-progress")
    assert result.code == 0, result.err
    assert result.out.startswith("10 pairs of 2-bit numbers")
    assert "exact-match accuracy 100.00%" in result.out
    assert len(examples(result.out)) == 2


def test_gru_cell_learns_subtraction(cli: Callable[..., Any]) -> None:
    result = cli("subtract", "--bits", "4", "--cell", "gru", "--no-progress")
    assert result.code == 0, result.err
    assert "GRU (tanh) with 16 units" in result.out
    assert "exact-match accuracy 100.00%" in result.out


def test_source_configuration_without_biases_and_with_sigmoid_runs(
    cli: Callable[..., Any],
) -> None:
    result = cli(
        "subtract", "--bits", "4", "--no-bias", "--nonlinearity", "sigmoid", "--no-progress"
    )
    assert result.code == 0, result.err
    assert "RNN (sigmoid) with 16 units, no biases" in result.out
    assert "exact-match accuracy " in result.out
    assert len(examples(result.out)) == 4


@pytest.mark.parametrize("bits", ["0", "11", "-1"])
def test_bits_out_of_range_is_a_one_line_error(cli: Callable[..., Any], bits: str) -> None:
    result = cli("subtract", "--bits", bits, "--no-progress")
    result.assert_one_line_error("minitorch-rnn subtract: error", "--bits", "1 and 10", bits)
    assert result.out == ""


def test_no_bias_with_a_gated_cell_is_a_one_line_error(cli: Callable[..., Any]) -> None:
    result = cli("subtract", "--bits", "2", "--cell", "lstm", "--no-bias", "--no-progress")
    result.assert_one_line_error("--no-bias", "--cell rnn")


def test_worked_examples_say_which_bit_comes_first(cli: Callable[..., Any]) -> None:
    result = cli("subtract", "--bits", "2", "--examples", "1", "--epochs", "1", "--no-progress")
    assert result.code == 0, result.err
    assert "bits printed most significant first" in result.out
    assert "after 1 epoch," in result.out
