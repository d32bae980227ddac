"""``mt.interop``: torch modules convert to ours and back with their weights, and compute the same."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import minitorch_rnn as mt
from minitorch_rnn import interop

torch = pytest.importorskip("torch")
nn = torch.nn

TOLERANCE = {np.float32: {"rtol": 1e-4, "atol": 1e-5}, np.float64: {"rtol": 1e-10, "atol": 1e-12}}
TORCH_DTYPE = {np.float32: torch.float32, np.float64: torch.float64}


def _inputs(shape, dtype, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _assert_same_state(ours, theirs, dtype):
    state = theirs.state_dict()
    assert set(ours.state_dict()) == set(state)
    for key, value in ours.state_dict().items():
        assert value.dtype == dtype, key
        np.testing.assert_array_equal(value, state[key].detach().numpy(), err_msg=key)


STACKS = [
    (nn.RNN, {"nonlinearity": "relu"}),
    (nn.RNN, {"nonlinearity": "tanh"}),
    (nn.GRU, {}),
    (nn.LSTM, {}),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("torch_class", "options"), STACKS)
def test_bidirectional_two_layer_stack_round_trips_with_equal_outputs_and_states(
    torch_class, options, dtype
):
    torch.manual_seed(0)
    theirs = torch_class(
        3,
        5,
        num_layers=2,
        bidirectional=True,
        batch_first=True,
        dtype=TORCH_DTYPE[dtype],
        **options,
    ).eval()
    ours = interop.from_torch(theirs)
    assert type(ours).__name__ == torch_class.__name__ and not ours.training
    _assert_same_state(ours, theirs, dtype)
    x = _inputs((4, 7, 3), dtype)
    with torch.no_grad():
        expected, expected_state = theirs(torch.from_numpy(x))
    out = ours.forward(x)
    assert out.dtype == dtype
    np.testing.assert_allclose(out, expected.numpy(), **TOLERANCE[dtype])
    if torch_class is nn.LSTM:
        np.testing.assert_allclose(ours.state[0], expected_state[0].numpy(), **TOLERANCE[dtype])
        np.testing.assert_allclose(ours.state[1], expected_state[1].numpy(), **TOLERANCE[dtype])
    else:
        np.testing.assert_allclose(ours.state, expected_state.numpy(), **TOLERANCE[dtype])
    back = interop.to_torch(ours)
    assert type(back) is torch_class and back.batch_first and back.bidirectional
    assert back.num_layers == 2 and not back.training
    for key, value in theirs.state_dict().items():
        assert back.state_dict()[key].dtype == value.dtype
        assert torch.equal(back.state_dict()[key], value), key
    with torch.no_grad():
        np.testing.assert_array_equal(back(torch.from_numpy(x))[0].numpy(), expected.numpy())


@pytest.mark.parametrize(
    ("torch_class", "options"),
    [(nn.RNNCell, {"nonlinearity": "relu"}), (nn.GRUCell, {}), (nn.LSTMCell, {})],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cells_convert_both_ways_and_step_like_torch(torch_class, options, dtype):
    torch.manual_seed(1)
    theirs = torch_class(3, 4, dtype=TORCH_DTYPE[dtype], **options)
    ours = interop.from_torch(theirs)
    _assert_same_state(ours, theirs, dtype)
    x, h = _inputs((2, 3), dtype, 1), _inputs((2, 4), dtype, 2)
    state = (h, _inputs((2, 4), dtype, 3)) if torch_class is nn.LSTMCell else h
    torch_state = (
        tuple(map(torch.from_numpy, state))
        if isinstance(state, tuple)
        else (torch.from_numpy(state))
    )
    with torch.no_grad():
        expected = theirs(torch.from_numpy(x), torch_state)
    ours.eval()
    got = ours.forward(x, state)
    if torch_class is nn.LSTMCell:
        for mine, reference in zip(got, expected, strict=True):
            np.testing.assert_allclose(mine, reference.numpy(), **TOLERANCE[dtype])
    else:
        np.testing.assert_allclose(got, expected.numpy(), **TOLERANCE[dtype])
    back = interop.to_torch(ours)
    assert type(back) is torch_class
    for key, value in theirs.state_dict().items():
        assert torch.equal(back.state_dict()[key], value), key


def test_sequential_of_embedding_linear_and_activations_matches_torch():
    torch.manual_seed(2)
    theirs = nn.Sequential(
        nn.Embedding(10, 4),
        nn.Linear(4, 6),
        nn.Tanh(),
        nn.Dropout(0.2),
        nn.Sequential(nn.Linear(6, 3, bias=False), nn.ReLU()),
        nn.Linear(3, 2),
        nn.Sigmoid(),
        nn.Softmax(dim=-1),
    ).eval()
    ours = interop.from_torch(theirs)
    assert [type(m).__name__ for m in ours] == [
        "Embedding",
        "Dense",
        "Tanh",
        "Dropout",
        "Sequential",
        "Dense",
        "Logistic",
        "Softmax",
    ]
    ids = np.random.default_rng(0).integers(0, 10, size=(3, 5))
    with torch.no_grad():
        expected = theirs(torch.from_numpy(ids)).numpy()
    np.testing.assert_allclose(ours.forward(ids), expected, rtol=1e-5, atol=1e-6)
    back = interop.to_torch(ours)
    with torch.no_grad():
        np.testing.assert_array_equal(back(torch.from_numpy(ids)).numpy(), expected)


def test_our_model_converts_to_torch_with_equal_outputs():
    ours = mt.Sequential(mt.Dense(3, 5, seed=0, dtype=np.float64), mt.Tanh())
    theirs = interop.to_torch(ours)
    x = _inputs((2, 3), np.float64)
    assert theirs[0].weight.dtype == torch.float64
    with torch.no_grad():
        np.testing.assert_allclose(theirs(torch.from_numpy(x)).numpy(), ours.forward(x))


def test_time_major_torch_module_is_refused_unless_accepted():
    theirs = nn.GRU(3, 4)  # torch's default batch_first=False
    with pytest.raises(ValueError, match=r"batch_first=False.*time_major=.accept."):
        interop.from_torch(theirs)
    ours = interop.from_torch(theirs, time_major="accept")
    x = _inputs((2, 6, 3), np.float32)
    with torch.no_grad():
        expected = theirs(torch.from_numpy(x.transpose(1, 0, 2)))[0].numpy().transpose(1, 0, 2)
    np.testing.assert_allclose(ours.forward(x), expected, rtol=1e-4, atol=1e-5)
    assert interop.to_torch(ours, batch_first=False).batch_first is False


def test_module_without_counterpart_is_a_type_error_naming_it():
    with pytest.raises(TypeError, match=r"torch\.nn\.Conv1d has no minitorch_rnn counterpart"):
        interop.from_torch(nn.Sequential(nn.Linear(2, 2), nn.Conv1d(1, 1, 1)))
    with pytest.raises(TypeError, match=r"MeanPool has no torch\.nn counterpart"):
        interop.to_torch(mt.Sequential(mt.Dense(2, 2), mt.MeanPool()))
    with pytest.raises(TypeError, match=r"expected a torch\.nn\.Module, got ndarray"):
        interop.from_torch(np.zeros(2))


@pytest.mark.parametrize(
    ("module", "words"),
    [
        (nn.LSTM(2, 3, proj_size=2, batch_first=True), "proj_size"),
        (nn.Embedding(4, 2, max_norm=1.0), "max_norm"),
        (nn.Embedding(5, 3, padding_idx=0), "padding_idx=0 .*frozen"),
        (nn.Sequential(nn.Embedding(5, 3, padding_idx=-1)), "padding_idx=4"),
        (nn.Linear(2, 2).half(), "float16"),
    ],
)
def test_torch_options_without_counterpart_are_refused(module, words):
    with pytest.raises((ValueError, TypeError), match=words):
        interop.from_torch(module)


@pytest.mark.parametrize(
    ("module", "words"),
    [
        (mt.RNNCell(2, 3, nonlinearity="sigmoid"), "nonlinearity='sigmoid'"),
        (mt.GRUCell(2, 3, reset_after=False), "reset_after=False"),
        (mt.LSTM(2, 3, return_sequences=False), "return_sequences=False"),
        (mt.GRU(2, 3, stateful=True), "stateful"),
        (mt.LSTMCell(2, 3, gate="hard_sigmoid"), "gate='hard_sigmoid'"),
    ],
)
def test_our_options_without_torch_counterpart_are_refused(module, words):
    with pytest.raises(ValueError, match=words):
        interop.to_torch(module)


def test_importing_the_package_does_not_import_torch():
    code = "import sys, minitorch_rnn, minitorch_rnn.interop; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_stack_without_biases_round_trips():
    theirs = nn.LSTM(3, 4, bias=False, batch_first=True, dtype=torch.float64)
    ours = interop.from_torch(theirs)
    assert set(ours.state_dict()) == {"weight_ih_l0", "weight_hh_l0"}
    x = _inputs((2, 5, 3), np.float64)
    with torch.no_grad():
        expected = theirs(torch.from_numpy(x))[0].numpy()
    np.testing.assert_allclose(ours.forward(x), expected, **TOLERANCE[np.float64])
    back = interop.to_torch(ours)
    assert back.bias is False
    assert all(torch.equal(back.state_dict()[k], v) for k, v in theirs.state_dict().items())
