"""``mt.callbacks.GradientFlow``: which layers it records, when, what it stores, and what it restores."""

from __future__ import annotations

import json

import numpy as np
import pytest

import minitorch_rnn as mt
from minitorch_rnn.examples.common import write_history
from minitorch_rnn.training.callbacks import Callback

STEPS, HIDDEN = 6, 5


def _data(n=16, seed=0):
    return mt.datasets.adding_problem(n, STEPS, seed=seed, dtype=np.float64)


def _model(seed=0):
    rnn = mt.Unroll(mt.RNNCell(2, HIDDEN, seed=seed, dtype=np.float64), return_sequences=False)
    return mt.Sequential(rnn, mt.Dense(HIDDEN, 1, seed=seed, dtype=np.float64))


def _trainer(model, *callbacks):
    return mt.Trainer(
        model, mt.MSELoss(), mt.optim.SGD(model.parameters(), lr=0.1), metrics=(),
        callbacks=callbacks,
    )  # fmt: skip


def _hand_norms(model, x, y):
    """||d loss / d h_t|| of a tanh RNN + Dense under the mean squared error, by hand."""
    cell, dense = model[0].cell, model[1]
    hs, h = [], np.zeros((x.shape[0], HIDDEN))
    for t in range(x.shape[1]):
        h = np.tanh(
            x[:, t] @ cell.weight_ih.data.T + cell.bias_ih.data + h @ cell.weight_hh.data.T
            + cell.bias_hh.data
        )  # fmt: skip
        hs.append(h)
    pred = hs[-1] @ dense.weight.data.T + dense.bias.data
    grad_h = (2 * (pred - y) / y.size) @ dense.weight.data
    norms = [0.0] * x.shape[1]
    for t in reversed(range(x.shape[1])):
        norms[t] = np.linalg.norm(grad_h)
        grad_h = (grad_h * (1 - hs[t] ** 2)) @ cell.weight_hh.data
    return np.array(norms)


class _Spy(Callback):
    """Copies the Unroll's recording flag and norms after every batch."""

    def __init__(self, unroll):
        self.unroll, self.flags, self.norms = unroll, [], []

    def on_batch_end(self, batch, logs):
        self.flags.append(self.unroll.record_grad_norms)
        self.norms.append(np.array(self.unroll.grad_norms))


def test_first_record_equals_hand_computed_gradient_norms_at_the_initial_weights():
    model, (x, y) = _model(), _data()
    expected = _hand_norms(model, x[:8], y[:8])  # before the first step changes the weights
    flow = mt.callbacks.GradientFlow(every=3)
    _trainer(model, flow).fit(x, y, epochs=1, batch_size=8, shuffle=False, progress=False)
    epoch, batch, record = flow.records[0]
    assert (epoch, batch, list(record)) == (0, 0, ["0"])
    assert record["0"].dtype == np.float64 and record["0"].shape == (STEPS,)
    np.testing.assert_allclose(record["0"], expected, rtol=1e-10)
    assert expected[0] < expected[-1]  # the gradient shrinks on its way back


def test_every_n_batches_counted_over_the_whole_run_and_switched_off_at_the_end():
    model, (x, y) = _model(), _data(n=20)
    assert not model[0].record_grad_norms
    flow = mt.callbacks.GradientFlow(every=3)
    spy = _Spy(model[0])
    _trainer(model, flow, spy).fit(x, y, epochs=2, batch_size=4, shuffle=False, progress=False)
    assert all(spy.flags)
    assert [(e, b) for e, b, _ in flow.records] == [(0, 0), (0, 3), (1, 1), (1, 4)]
    for (_, _, record), kept in zip(flow.records, (0, 3, 6, 9), strict=True):
        np.testing.assert_array_equal(record["0"], spy.norms[kept])
    assert model[0].record_grad_norms is False


def test_history_holds_each_epochs_mean_per_position_and_survives_a_history_file(tmp_path):
    model, (x, y) = _model(), _data(n=12)
    flow = mt.callbacks.GradientFlow(every=1)
    history = _trainer(model, flow).fit(x, y, epochs=2, batch_size=4, shuffle=False, progress=False)
    keys = [f"grad_norm/0/{t}" for t in range(STEPS)]
    assert all(len(history[key]) == 2 for key in keys)
    for epoch in range(2):
        kept = np.array([r["0"] for e, _, r in flow.records if e == epoch])
        assert kept.shape == (3, STEPS)
        np.testing.assert_allclose(flow.curve("0")[epoch], kept.mean(axis=0))
    path = tmp_path / "history.json"
    write_history(history, str(path))
    np.testing.assert_allclose(flow.curve("0", json.loads(path.read_text())), flow.curve("0"))
    assert "grad_norm/0/0" not in history.get("loss", [])  # norms stay out of the epoch logs


def test_a_named_stack_is_recorded_per_unroll_and_direction():
    stack = mt.GRU(2, 3, num_layers=2, bidirectional=True, seed=0, dtype=np.float64)
    model = mt.Sequential(stack, mt.Dense(6, 1, seed=0, dtype=np.float64))
    x, _ = _data(n=4)
    y = np.zeros((4, STEPS, 1))
    flow = mt.callbacks.GradientFlow(layers="0", every=1)
    _trainer(model, flow).fit(x, y, epochs=1, batch_size=4, progress=False)
    assert flow.layer_names == [
        "0.layer0.forward_unroll", "0.layer0.backward_unroll",
        "0.layer1.forward_unroll", "0.layer1.backward_unroll",
    ]  # fmt: skip
    assert all(norms.shape == (STEPS,) for norms in flow.records[0][2].values())
    assert not any(m.record_grad_norms for m in stack.modules() if isinstance(m, mt.Unroll))


@pytest.mark.parametrize(
    ("layers", "error", "words"),
    [("2", KeyError, "no module named '2'"), ("1", TypeError, "'1' \\(Dense\\) holds no Unroll")],
)
def test_unknown_or_non_recurrent_layer_is_named_when_training_begins(layers, error, words):
    model, (x, y) = _model(), _data(n=4)
    with pytest.raises(error, match=words):
        _trainer(model, mt.callbacks.GradientFlow(layers)).fit(x, y, epochs=1, progress=False)


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"every": 0}, ValueError, "every must be an int >= 1"),
        ({"layers": [3]}, TypeError, "layers must be names"),
        ({"prefix": ""}, TypeError, "prefix"),
    ],
)
def test_bad_arguments_raise_naming_gradient_flow(kwargs, error, words):
    with pytest.raises(error, match=words):
        mt.callbacks.GradientFlow(**kwargs)
