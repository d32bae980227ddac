"""RNN / GRU / LSTM stacks: PyTorch naming, state layout, composition of layers, dropout, gradients."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import minitorch_rnn as mt

B, T, I, H = 2, 3, 2, 3
LENGTHS = np.array([3, 1])
STACKS = {"RNN": (mt.RNN, 1), "GRU": (mt.GRU, 3), "LSTM": (mt.LSTM, 4)}


def make_stack(kind: str, num_layers: int = 2, bidirectional: bool = True, **options: Any) -> Any:
    options.setdefault("dtype", np.float64)
    options.setdefault("seed", 0)
    return STACKS[kind][0](I, H, num_layers=num_layers, bidirectional=bidirectional, **options)


def random_state(stack: Any, rng: np.random.Generator) -> Any:
    shape = (stack.num_layers * stack.num_directions, B, H)
    h = 0.5 * rng.standard_normal(shape)
    return (h, 0.5 * rng.standard_normal(shape)) if isinstance(stack, mt.LSTM) else h


def parts(state: Any) -> tuple[np.ndarray, ...]:
    return state if isinstance(state, tuple) else (state,)


def pytorch_names(num_layers: int, bidirectional: bool, bias: bool) -> list[str]:
    """``torch.nn.RNN/GRU/LSTM(...).state_dict()`` keys, in PyTorch's order."""
    stems = ("weight_ih", "weight_hh") + (("bias_ih", "bias_hh") if bias else ())
    return [
        f"{stem}_l{layer}{suffix}"
        for layer in range(num_layers)
        for suffix in (("", "_reverse") if bidirectional else ("",))
        for stem in stems
    ]


@pytest.mark.parametrize("kind", list(STACKS))
def test_two_layer_bidirectional_stack_passes_gradcheck_with_states(
    kind: str, state_probe: Callable[..., mt.Module], rng: np.random.Generator
) -> None:
    stack = make_stack(kind)
    x, state = rng.standard_normal((B, T, I)), random_state(stack, rng)
    assert mt.gradcheck(state_probe(stack), x, state)


@pytest.mark.parametrize("kind", list(STACKS))
def test_two_layer_bidirectional_stack_passes_gradcheck_with_lengths(
    kind: str, rng: np.random.Generator
) -> None:
    stack = make_stack(kind, seed=1)
    assert mt.gradcheck(stack, rng.standard_normal((B, T, I)), forward_kwargs={"lengths": LENGTHS})


def test_stack_with_dropout_in_training_mode_passes_gradcheck(
    state_probe: Callable[..., mt.Module], rng: np.random.Generator
) -> None:
    # gradcheck replays the dropout generator, so every evaluation draws the same masks
    stack = make_stack("GRU", dropout=0.4, seed=2)
    x, state = rng.standard_normal((B, T, I)), random_state(stack, rng)
    assert mt.gradcheck(state_probe(stack), x, state, forward_kwargs={"lengths": LENGTHS})


def test_stack_without_return_sequences_passes_gradcheck(rng: np.random.Generator) -> None:
    stack = make_stack("RNN", return_sequences=False)
    assert mt.gradcheck(stack, rng.standard_normal((B, T, I)), forward_kwargs={"lengths": LENGTHS})


@pytest.mark.parametrize("kind", list(STACKS))
@pytest.mark.parametrize("num_layers", [1, 2, 3])
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no-bias"])
def test_state_dict_has_pytorch_keys_order_and_shapes(
    kind: str, num_layers: int, bidirectional: bool, bias: bool
) -> None:
    stack = make_stack(kind, num_layers, bidirectional, bias=bias)
    state = stack.state_dict()
    assert list(state) == pytorch_names(num_layers, bidirectional, bias)
    rows, directions = STACKS[kind][1] * H, 2 if bidirectional else 1
    for name, value in state.items():
        layer = int(name.split("_l")[1].split("_")[0])
        if name.startswith("weight_ih"):
            assert value.shape == (rows, I if layer == 0 else H * directions), name
        elif name.startswith("weight_hh"):
            assert value.shape == (rows, H), name
        else:
            assert value.shape == (rows,), name


def test_stack_parameters_are_the_cells_parameters(rng: np.random.Generator) -> None:
    stack = make_stack("LSTM")
    x = rng.standard_normal((B, T, I))
    before = stack.forward(x)
    loaded = {name: value * 0.5 for name, value in stack.state_dict().items()}
    stack.load_state_dict(loaded)
    assert not np.allclose(stack.forward(x), before)
    assert stack.layer1.backward_unroll.cell.weight_hh is stack.weight_hh_l1_reverse


@pytest.mark.parametrize("kind", list(STACKS))
@pytest.mark.parametrize("lengths", [None, LENGTHS], ids=["full", "lengths"])
def test_stack_equals_its_layers_composed_by_hand(
    kind: str, lengths: np.ndarray | None, rng: np.random.Generator
) -> None:
    stack = make_stack(kind)
    cells = {
        name: copy.deepcopy(unroll.cell)
        for name, unroll in stack.named_modules()
        if isinstance(unroll, mt.Unroll)
    }
    assert list(cells) == [
        "layer0.forward_unroll",
        "layer0.backward_unroll",
        "layer1.forward_unroll",
        "layer1.backward_unroll",
    ]
    layers = [
        mt.Bidirectional(
            mt.Unroll(cells[f"layer{layer}.forward_unroll"]),
            mt.Unroll(cells[f"layer{layer}.backward_unroll"], reverse=True),
        )
        for layer in range(2)
    ]
    x, state = rng.standard_normal((B, T, I)), random_state(stack, rng)
    per_unroll = [
        tuple(p[index] for p in parts(state)) if isinstance(state, tuple) else state[index]
        for index in range(4)
    ]
    hidden = layers[0].forward(x, (per_unroll[0], per_unroll[1]), lengths=lengths)
    expected = layers[1].forward(hidden, (per_unroll[2], per_unroll[3]), lengths=lengths)
    np.testing.assert_allclose(stack.forward(x, state, lengths=lengths), expected, rtol=1e-12)

    grad = rng.standard_normal(expected.shape)
    expected_grad_x = layers[0].backward(layers[1].backward(grad))
    np.testing.assert_allclose(stack.backward(grad), expected_grad_x, rtol=1e-10, atol=1e-13)
    mine = [u.cell for u in stack.modules() if isinstance(u, mt.Unroll)]
    for my_cell, hand_cell in zip(mine, cells.values(), strict=True):
        for got, want in zip(my_cell.parameters(), hand_cell.parameters(), strict=True):
            np.testing.assert_allclose(got.grad, want.grad, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("kind", list(STACKS))
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
def test_state_and_initial_state_gradient_use_pytorch_layout(
    kind: str, bidirectional: bool, rng: np.random.Generator
) -> None:
    stack = make_stack(kind, num_layers=3, bidirectional=bidirectional)
    directions = 2 if bidirectional else 1
    output = stack.forward(rng.standard_normal((B, T, I)), lengths=LENGTHS)
    unrolls = [u for u in stack.modules() if isinstance(u, mt.Unroll)]
    assert len(parts(stack.state)) == (2 if kind == "LSTM" else 1)
    for part_index, part in enumerate(parts(stack.state)):
        assert part.shape == (3 * directions, B, H)
        for index, unroll in enumerate(unrolls):  # layer 0 forward, layer 0 reverse, layer 1, ...
            np.testing.assert_array_equal(part[index], parts(unroll.state)[part_index])
    stack.backward(rng.standard_normal(output.shape))
    for part_index, part in enumerate(parts(stack.grad_initial_state)):
        assert part.shape == (3 * directions, B, H)
        for index, unroll in enumerate(unrolls):
            np.testing.assert_array_equal(part[index], parts(unroll.grad_initial_state)[part_index])


@pytest.mark.parametrize("kind", list(STACKS))
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
def test_stack_without_return_sequences_outputs_the_last_layer_final_states(
    kind: str, bidirectional: bool, rng: np.random.Generator
) -> None:
    stack = make_stack(kind, bidirectional=bidirectional, return_sequences=False)
    directions = 2 if bidirectional else 1
    output = stack.forward(rng.standard_normal((B, T, I)), lengths=LENGTHS)
    assert output.shape == (B, H * directions)
    h_n = parts(stack.state)[0]
    np.testing.assert_array_equal(output, np.concatenate(list(h_n[-directions:]), axis=-1))
    assert stack.backward(np.ones_like(output)).shape == (B, T, I)


def test_stack_options_reach_the_cells() -> None:
    relu = make_stack("RNN", nonlinearity="relu")
    assert all(c.nonlinearity == "relu" for c in relu.modules() if isinstance(c, mt.RNNCell))
    cho = make_stack("GRU", reset_after=False)
    assert all(not c.reset_after for c in cho.modules() if isinstance(c, mt.GRUCell))
    lstm = make_stack("LSTM", forget_bias=1.0)
    for layer in range(2):
        np.testing.assert_array_equal(lstm.state_dict()[f"bias_ih_l{layer}"][H : 2 * H], 1.0)
        np.testing.assert_array_equal(
            lstm.state_dict()[f"bias_hh_l{layer}_reverse"][H : 2 * H], 0.0
        )


def test_dropout_acts_between_layers_in_training_mode_only(rng: np.random.Generator) -> None:
    x = rng.standard_normal((B, T, I))
    plain = make_stack("GRU", seed=3)
    dropped = make_stack("GRU", seed=3, dropout=0.5)
    assert not np.allclose(dropped.forward(x), plain.forward(x))
    dropped.eval()
    np.testing.assert_array_equal(dropped.forward(x), plain.forward(x))
    # after the last layer there is no dropout: a one-layer stack ignores it
    single = make_stack("GRU", num_layers=1, seed=3, dropout=0.5)
    np.testing.assert_array_equal(
        single.forward(x), make_stack("GRU", num_layers=1, seed=3).forward(x)
    )


def test_stateful_stack_chunks_continue_one_long_sequence(rng: np.random.Generator) -> None:
    x = rng.standard_normal((B, 2 * T, I))
    whole = make_stack("LSTM", bidirectional=False, seed=4)
    expected = whole.forward(x)
    stream = make_stack("LSTM", bidirectional=False, seed=4, stateful=True)
    chunks = [stream.forward(x[:, :T]), stream.forward(x[:, T:])]
    np.testing.assert_allclose(np.concatenate(chunks, axis=1), expected, rtol=1e-12)
    for got, want in zip(parts(stream.state), parts(whole.state), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12)
    stream.reset_state()
    np.testing.assert_array_equal(stream.forward(x[:, :T]), chunks[0])


@pytest.mark.parametrize("kind", list(STACKS))
def test_float32_stack_stays_float32_with_float64_input(
    kind: str, rng: np.random.Generator
) -> None:
    stack = make_stack(kind, dtype=np.float32, dropout=0.3)
    output = stack.forward(rng.standard_normal((B, T, I)), random_state(stack, rng), LENGTHS)
    grad_x = stack.backward(rng.standard_normal(output.shape), random_state(stack, rng))
    assert output.dtype == grad_x.dtype == np.float32
    for group in (stack.state, stack.grad_initial_state):
        assert all(part.dtype == np.float32 for part in parts(group))
    assert all(p.data.dtype == p.grad.dtype == np.float32 for p in stack.parameters())


def test_stacks_default_to_float32() -> None:
    assert all(p.dtype == np.float32 for p in mt.LSTM(3, 4, num_layers=2).parameters())


@pytest.mark.parametrize(
    ("stack_class", "cell_class", "options"),
    [
        (mt.RNN, mt.RNNCell, {"nonlinearity": "relu"}),
        (mt.GRU, mt.GRUCell, {"reset_after": False}),
        (mt.LSTM, mt.LSTMCell, {"forget_bias": 1.0}),
    ],
)
def test_rnn_gru_lstm_are_recurrent_stacks_of_their_cell(
    stack_class: Any, cell_class: Any, options: dict
) -> None:
    fixed = stack_class(3, 4, num_layers=2, bidirectional=True, seed=0, **options)
    generic = mt.RecurrentStack(
        cell_class, 3, 4, num_layers=2, bidirectional=True, seed=0, **options
    )
    assert isinstance(fixed, mt.RecurrentStack)
    assert list(fixed.state_dict()) == list(generic.state_dict())
    for name, value in fixed.state_dict().items():
        np.testing.assert_array_equal(value, generic.state_dict()[name], err_msg=name)
    x = np.random.default_rng(0).standard_normal((2, 5, 3))
    np.testing.assert_array_equal(fixed.forward(x), generic.forward(x))


def test_stack_structure_is_its_registered_modules_in_order() -> None:
    stack = mt.GRU(3, 4, num_layers=3, dropout=0.5, seed=0)
    children = [name for name, _ in stack.named_modules() if name and "." not in name]
    assert children == ["layer0", "dropout0", "layer1", "dropout1", "layer2"]
    assert [type(child).__name__ for child in stack.children()] == [
        "Unroll", "Dropout", "Unroll", "Dropout", "Unroll"
    ]  # fmt: skip
    # the aliased parameters are the cells' own objects, not copies
    assert stack.weight_hh_l2 is stack.layer2.cell.weight_hh
