"""Cells written by a user, through the public protocol only, are the built-in cells' equals.

``user_cells.py`` holds the IndRNN and peephole LSTM of the custom-cell tutorial (the page shows
the same source, checked here); a three-state cell defined below proves that any number of state
arrays works. Each goes through hand unrolling, ``Unroll`` with lengths and reverse,
``Bidirectional``, a 2-layer bidirectional ``RecurrentStack``, ``gradcheck``, ``Trainer.fit`` and a
``mt.save``/``mt.load`` round trip.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import minitorch_rnn as mt
from tests.recurrent import user_cells

HERE = Path(__file__).parent
TUTORIAL = HERE.parent.parent / "docs" / "tutorials" / "custom-cell.md"
I, H, B, T = 3, 4, 3, 5


class ThreeStateCell(mt.RecurrentCell):
    """A toy cell with three state arrays, each feeding the others:
    ``h = tanh(x_proj + h_prev W^T + m_prev)``, ``m = m_prev / 2 + s_prev * h / 2``,
    ``s = 0.9 s_prev + 0.1 h``."""

    num_gates = 1
    state_names = ("h", "m", "s")

    def step(self, x_proj, state_prev, state_next, cache):  # type: ignore[no-untyped-def]
        (h_prev, m_prev, s_prev), (h, m, s) = state_prev, state_next
        h[...] = np.tanh(x_proj + h_prev @ self.weight_hh.data.T + m_prev)
        m[...] = 0.5 * m_prev + 0.5 * s_prev * h
        s[...] = 0.9 * s_prev + 0.1 * h

    def step_backward(self, grad_state, state_prev, state_next, cache, grad_preact):  # type: ignore[no-untyped-def]
        (grad_h, grad_m, grad_s), (_, _, s_prev), (h, _, _) = grad_state, state_prev, state_next
        grad_h_total = grad_h + 0.5 * grad_m * s_prev + 0.1 * grad_s
        grad_preact[...] = grad_h_total * (1 - h * h)
        return (
            grad_preact @ self.weight_hh.data,
            grad_preact + 0.5 * grad_m,
            0.5 * grad_m * h + 0.9 * grad_s,
        )


CELLS: dict[str, type[mt.RecurrentCell]] = {
    "indrnn": user_cells.IndRNNCell,
    "peephole": user_cells.PeepholeLSTMCell,
    "three_state": ThreeStateCell,
}


def _sigmoid(a: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-a))


def reference_step(cell: mt.RecurrentCell, x: np.ndarray, state: tuple) -> tuple:
    """The cells' equations, written independently of their fused code."""
    p = {name: parameter.data for name, parameter in cell.named_parameters()}
    a = x @ p["weight_ih"].T + p["bias_ih"] + p["bias_hh"]
    if isinstance(cell, user_cells.IndRNNCell):
        return (np.maximum(a + p["u"] * state[0], 0),)
    if isinstance(cell, user_cells.PeepholeLSTMCell):
        h_prev, c_prev = state
        a = a + h_prev @ p["weight_hh"].T
        a_i, a_f, a_g, a_o = (a[:, k * H : (k + 1) * H] for k in range(4))
        c = _sigmoid(a_f + p["peephole_f"] * c_prev) * c_prev + _sigmoid(
            a_i + p["peephole_i"] * c_prev
        ) * np.tanh(a_g)
        return (_sigmoid(a_o + p["peephole_o"] * c) * np.tanh(c), c)
    h_prev, m_prev, s_prev = state
    h = np.tanh(a + h_prev @ p["weight_hh"].T + m_prev)
    return (h, 0.5 * m_prev + 0.5 * s_prev * h, 0.9 * s_prev + 0.1 * h)


def random_state(cell: mt.RecurrentCell, rng: np.random.Generator, leading: tuple = ()) -> Any:
    parts = tuple(
        np.abs(rng.standard_normal((*leading, B, H))) for _ in range(cell.state_size)
    )  # non-negative: an IndRNN state is a ReLU output
    return parts[0] if cell.state_size == 1 else parts


def as_tuple(cell: mt.RecurrentCell, state: Any) -> tuple:
    return (state,) if cell.state_size == 1 else tuple(state)


@pytest.fixture(params=sorted(CELLS))
def kind(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


def make(kind: str, input_size: int = I, seed: int = 0, **options: Any) -> mt.RecurrentCell:
    return CELLS[kind](input_size, H, seed=seed, dtype=np.float64, **options)


def test_the_tutorial_shows_exactly_the_tested_cells() -> None:
    page = TUTORIAL.read_text(encoding="utf-8")
    source = Path(user_cells.__file__).read_text(encoding="utf-8")
    classes = [node for node in ast.parse(source).body if isinstance(node, ast.ClassDef)]
    assert [c.name for c in classes] == ["IndRNNCell", "PeepholeLSTMCell"]
    for node in classes:
        segment = ast.get_source_segment(source, node)
        assert segment and segment in page, f"{node.name} differs from the tutorial's"


def test_user_cell_parameters_are_registered_as_declared() -> None:
    indrnn = make("indrnn")
    assert [n for n, _ in indrnn.named_parameters()] == ["weight_ih", "bias_ih", "bias_hh", "u"]
    assert indrnn.weight_hh is None and indrnn.u.shape == (H,)
    peephole = make("peephole")
    names = [n for n, _ in peephole.named_parameters()]
    assert names[-3:] == ["peephole_i", "peephole_f", "peephole_o"]


def test_unroll_follows_the_equations_and_hand_unrolling_gives_the_same_gradients(
    kind: str,
) -> None:
    rng = np.random.default_rng(1)
    cell = make(kind)
    x = rng.standard_normal((B, T, I))
    state = random_state(cell, rng)
    grad_out = rng.standard_normal((B, T, H))

    expected, parts = [], as_tuple(cell, state)
    for t in range(T):
        parts = reference_step(cell, x[:, t], parts)
        expected.append(parts[0])
    rnn = mt.Unroll(cell)
    np.testing.assert_allclose(rnn.forward(x, state), np.stack(expected, 1), rtol=1e-12)
    grad_x = rnn.backward(grad_out)
    by_unroll = {n: p.grad.copy() for n, p in cell.named_parameters()}

    cell.zero_grad()
    hand_state, outputs = state, []
    for t in range(T):
        hand_state = cell.forward(x[:, t], hand_state)
        outputs.append(as_tuple(cell, hand_state)[0])
    np.testing.assert_allclose(np.stack(outputs, 1), np.stack(expected, 1), rtol=1e-12)
    carried = tuple(np.zeros((B, H)) for _ in range(cell.state_size))
    hand_grad_x = []
    for t in reversed(range(T)):
        carried = (carried[0] + grad_out[:, t],) + carried[1:]
        grad_x_t, grad_prev = cell.backward(cell.public_state(carried))
        carried = as_tuple(cell, grad_prev)
        hand_grad_x.append(grad_x_t)
    np.testing.assert_allclose(np.stack(hand_grad_x[::-1], 1), grad_x, rtol=1e-10)
    for name, parameter in cell.named_parameters():
        np.testing.assert_allclose(parameter.grad, by_unroll[name], rtol=1e-10, err_msg=name)


@pytest.mark.parametrize("reverse", [False, True])
def test_unroll_with_lengths_passes_gradcheck_of_input_states_and_parameters(
    kind: str, reverse: bool, state_probe: Any
) -> None:
    rng = np.random.default_rng(2)
    cell = make(kind)
    x = rng.standard_normal((B, T, I))
    lengths = np.array([T, 3, 1])
    probe = state_probe(mt.Unroll(cell, reverse=reverse))
    assert mt.gradcheck(probe, x, random_state(cell, rng), forward_kwargs={"lengths": lengths})


def test_bidirectional_passes_gradcheck(kind: str) -> None:
    rng = np.random.default_rng(3)
    layer = mt.Bidirectional(mt.Unroll(make(kind)), mt.Unroll(make(kind, seed=1), reverse=True))
    x = rng.standard_normal((B, T, I))
    assert mt.gradcheck(layer, x, forward_kwargs={"lengths": np.array([T, 2, 4])})


def test_two_layer_bidirectional_stack_names_every_parameter_by_pytorchs_rule_and_passes_gradcheck(
    kind: str, state_probe: Any
) -> None:
    rng = np.random.default_rng(4)
    stack = mt.RecurrentStack(
        CELLS[kind], I, H, num_layers=2, bidirectional=True, seed=0, dtype=np.float64
    )
    cell_names = [n for n, _ in make(kind).named_parameters()]
    expected = [
        name + suffix
        for suffix in ("_l0", "_l0_reverse", "_l1", "_l1_reverse")
        for name in cell_names
    ]
    assert list(stack.state_dict()) == expected
    x = rng.standard_normal((B, T, I))
    state = random_state(make(kind), rng, leading=(4,))
    assert mt.gradcheck(
        state_probe(stack), x, state, forward_kwargs={"lengths": np.array([T, 2, 4])}
    )


def test_trainer_fits_a_user_cell_and_save_load_round_trips(kind: str, tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    x = rng.uniform(0, 1, (128, 6, 2)).astype(np.float32)
    y = x[:, :, 0].mean(axis=1, keepdims=True)  # the running mean of one channel

    def build() -> mt.Sequential:
        return mt.Sequential(
            mt.Unroll(CELLS[kind](2, 8, seed=0), return_sequences=False), mt.Dense(8, 1, seed=1)
        )

    model = build()
    trainer = mt.Trainer(model, mt.MSELoss(), mt.optim.Adam(model.parameters(), lr=0.02))
    history = trainer.fit(x, y, epochs=15, batch_size=32, progress=False)
    assert history["loss"][-1] < 0.25 * history["loss"][0]

    path = tmp_path / "user_cell.npz"
    mt.save(path, model)
    restored = build()
    mt.load(path, restored)
    model.eval(), restored.eval()
    np.testing.assert_array_equal(restored.forward(x[:4]), model.forward(x[:4]))


def test_a_stack_of_a_three_state_cell_takes_and_returns_three_state_tensors() -> None:
    stack = mt.RecurrentStack(ThreeStateCell, I, H, num_layers=2, seed=0, dtype=np.float64)
    rng = np.random.default_rng(6)
    state = tuple(rng.standard_normal((2, B, H)) for _ in range(3))
    stack.forward(rng.standard_normal((B, T, I)), state)
    assert isinstance(stack.state, tuple) and len(stack.state) == 3
    assert all(part.shape == (2, B, H) for part in stack.state)
    with pytest.raises(TypeError, match=r"RecurrentStack: state must be a tuple of 3 \(h, m, s\)"):
        stack.forward(rng.standard_normal((B, T, I)), state[:2])


def test_three_state_cell_carries_its_state_when_stateful_and_truncation_beyond_t_is_full_bptt() -> (
    None
):
    rng = np.random.default_rng(7)
    x1, x2 = rng.standard_normal((2, B, T, I))
    grad_out = rng.standard_normal((B, T, H))
    truncated = mt.Unroll(make("three_state"), stateful=True, bptt_truncate=T)
    truncated.forward(x1)
    carried = truncated.state
    assert isinstance(carried, tuple) and len(carried) == 3
    out = truncated.forward(x2)  # starts from the carried state
    truncated.backward(grad_out)

    full = mt.Unroll(make("three_state"))
    np.testing.assert_allclose(full.forward(x2, carried), out, rtol=1e-12)
    full.backward(grad_out)
    for a, b in zip(truncated.grad_initial_state, full.grad_initial_state, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10)
    for (name, p), (_, q) in zip(
        truncated.named_parameters(), full.named_parameters(), strict=True
    ):
        np.testing.assert_allclose(p.grad, q.grad, rtol=1e-10, err_msg=name)
