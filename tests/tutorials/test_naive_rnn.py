"""The naive RNN loop of ``docs/tutorials/naive-rnn.md`` equals ``mt.Unroll(mt.RNNCell)``.

The functions under test are taken from the page itself (its first ``python`` block), so the code
a reader sees is the code proven equal: outputs and every gradient, in float64, to 1e-12.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import minitorch_rnn as mt
from tests.helpers.markdown import python_blocks, run_block

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "tutorials" / "naive-rnn.md"
TOLERANCE = 1e-12


def _page_functions() -> dict[str, Any]:
    blocks = [b for b in python_blocks(PAGE) if "def rnn_forward" in b.code]
    assert len(blocks) == 1, "the page must define rnn_forward and rnn_backward in one block"
    assert not blocks[0].skipped, "the reference loop must be executed, not skipped"
    namespace: dict[str, Any] = {"__name__": "naive_rnn_page"}
    run_block(blocks[0], namespace, ROOT)
    return namespace


PAGE_CODE = _page_functions()
rnn_forward: Callable[..., np.ndarray] = PAGE_CODE["rnn_forward"]
rnn_backward: Callable[..., tuple[np.ndarray, ...]] = PAGE_CODE["rnn_backward"]


def test_the_page_reference_loop_is_short_enough_to_read_in_one_go() -> None:
    (block,) = [b for b in python_blocks(PAGE) if "def rnn_forward" in b.code]
    code_lines = [line for line in block.code.splitlines() if line.strip()]
    assert len(code_lines) <= 25, f"the naive loop grew to {len(code_lines)} lines"


@pytest.mark.parametrize(
    ("batch", "steps", "input_size", "hidden_size", "seed"),
    [(1, 1, 1, 1, 0), (3, 7, 4, 5, 1), (2, 12, 3, 8, 2), (5, 4, 6, 2, 3)],
)
def test_the_naive_loop_equals_unroll_in_outputs_and_every_gradient(
    batch: int, steps: int, input_size: int, hidden_size: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    cell = mt.RNNCell(input_size, hidden_size, seed=seed, dtype=np.float64)
    assert cell.bias_ih is not None and cell.bias_hh is not None and cell.weight_hh is not None
    unroll = mt.Unroll(cell)
    x = rng.standard_normal((batch, steps, input_size))
    h0 = rng.standard_normal((batch, hidden_size))
    grad_states = rng.standard_normal((batch, steps, hidden_size))

    states = rnn_forward(
        x, h0, cell.weight_ih.data, cell.weight_hh.data, cell.bias_ih.data, cell.bias_hh.data
    )
    grad_x, grad_h0, grad_w_ih, grad_w_hh, grad_bias = rnn_backward(
        grad_states, x, h0, states, cell.weight_ih.data, cell.weight_hh.data
    )
    output = unroll.forward(x, h0)
    unroll.zero_grad()
    unroll_grad_x = unroll.backward(grad_states)

    pairs = {
        "output": (states, output),
        "final state": (states[:, -1], unroll.state),
        "grad x": (grad_x, unroll_grad_x),
        "grad h0": (grad_h0, unroll.grad_initial_state),
        "grad weight_ih": (grad_w_ih, cell.weight_ih.grad),
        "grad weight_hh": (grad_w_hh, cell.weight_hh.grad),
        "grad bias_ih": (grad_bias, cell.bias_ih.grad),
        "grad bias_hh": (grad_bias, cell.bias_hh.grad),
    }
    for name, (naive, fast) in pairs.items():
        assert np.asarray(fast).dtype == np.float64, name
        np.testing.assert_allclose(naive, fast, rtol=0, atol=TOLERANCE, err_msg=name)


def test_the_comparison_would_catch_a_wrong_reference_loop() -> None:
    """A naive loop with the tanh derivative dropped must differ from Unroll by far more than the
    tolerance, so the equality above is not vacuous."""
    rng = np.random.default_rng(7)
    cell = mt.RNNCell(3, 4, seed=7, dtype=np.float64)
    assert cell.bias_ih is not None and cell.bias_hh is not None and cell.weight_hh is not None
    x = rng.standard_normal((2, 5, 3))
    h0 = rng.standard_normal((2, 4))
    grad_states = rng.standard_normal((2, 5, 4))
    weights = (cell.weight_ih.data, cell.weight_hh.data)
    states = rnn_forward(x, h0, *weights, cell.bias_ih.data, cell.bias_hh.data)
    wrong_states = np.zeros_like(states)  # makes (1 - h^2) == 1: the tanh derivative is lost
    right = rnn_backward(grad_states, x, h0, states, *weights)
    wrong = rnn_backward(grad_states, x, h0, wrong_states, *weights)
    assert np.abs(right[0] - wrong[0]).max() > 1e3 * TOLERANCE
