r"""The textbook way of writing an RNN, GRU and LSTM — the slow baseline we measure against.

This is deliberately *not* how the framework computes: it follows the per-sample equations of the
classic step-by-step course notebooks (the Elman RNN with its softmax head, the LSTM cell of
Hochreiter & Schmidhuber, the GRU of Cho et al.) the way such code does — one sample at a time,
column vectors, a Python loop over time, separate matrices per gate, fresh arrays for every
intermediate, float64 — so that "ours / seed-style" measures what vectorising buys. The names
(``Wax``, ``Wf``, ``dWf``, ``da_next``, ...) are the textbook notation on purpose.

Equations (column vectors; :math:`x^{<t>}` one-hot of the input symbol):

RNN (000): :math:`a^{<t>} = \tanh(W_{ax} x^{<t>} + W_{aa} a^{<t-1>} + b_a)`.

LSTM (002), gates over the concatenation :math:`[a^{<t-1>}; x^{<t>}]`:
:math:`\Gamma_f = \sigma(W_f [a; x] + b_f)`, :math:`\Gamma_i = \sigma(W_i [a; x] + b_i)`,
:math:`\tilde c = \tanh(W_c [a; x] + b_c)`, :math:`c^{<t>} = \Gamma_f c^{<t-1>} + \Gamma_i \tilde c`,
:math:`\Gamma_o = \sigma(W_o [a; x] + b_o)`, :math:`a^{<t>} = \Gamma_o \tanh(c^{<t>})`.

GRU (004, reset before the recurrent product, with the logistic sigmoid):
:math:`z = \sigma(U_z x + W_z s + b_z)`, :math:`r = \sigma(U_r x + W_r s + b_r)`,
:math:`h = \tanh(U_h x + W_h (s \odot r) + b_h)`, :math:`s^{<t>} = (1 - z) h + z s^{<t-1>}`.

Head and loss (000): :math:`\hat y^{<t>} = \mathrm{softmax}(W_{ya} a^{<t>} + b_y)`,
:math:`L = -\sum_t \log \hat y^{<t>}_{y^{<t>}}`; backward starts from :math:`\hat y - y`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

import minitorch_rnn as mt

__all__ = [
    "KINDS",
    "initialize_parameters",
    "parameters_from_model",
    "predict",
    "sequence_loss_and_gradients",
    "train_on_sample",
    "update_parameters",
]

KINDS = ("rnn", "gru", "lstm")

Parameters = dict[str, np.ndarray]


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - np.max(z))
    return e / np.sum(e, axis=0)


def initialize_parameters(kind: str, n_x: int, n_a: int, n_y: int, seed: int = 1) -> Parameters:
    """Small random weights (``randn * 0.01``) and zero biases, as document 000 initialises."""
    rng = np.random.default_rng(seed)

    def weights(rows: int, cols: int) -> np.ndarray:
        return rng.standard_normal((rows, cols)) * 0.01

    if kind == "rnn":
        parameters = {"Wax": weights(n_a, n_x), "Waa": weights(n_a, n_a), "ba": np.zeros((n_a, 1))}
    elif kind == "lstm":
        parameters = {}
        for gate in "fico":
            parameters["W" + gate] = weights(n_a, n_a + n_x)
            parameters["b" + gate] = np.zeros((n_a, 1))
    elif kind == "gru":
        parameters = {}
        for gate in "zrh":
            parameters["U" + gate] = weights(n_a, n_x)
            parameters["W" + gate] = weights(n_a, n_a)
            parameters["b" + gate] = np.zeros((n_a, 1))
    else:
        raise ValueError(f"seed_reference: kind must be one of {KINDS}, got {kind!r}")
    parameters["Wya"] = weights(n_y, n_a)
    parameters["by"] = np.zeros((n_y, 1))
    return parameters


# -- one step forward --------------------------------------------------------------------------


def rnn_step_forward(xt: np.ndarray, a_prev: np.ndarray, parameters: Parameters) -> tuple:
    a_next = np.tanh(
        np.dot(parameters["Waa"], a_prev) + np.dot(parameters["Wax"], xt) + parameters["ba"]
    )
    return a_next, (a_next, a_prev, xt)


def lstm_cell_forward(
    xt: np.ndarray, a_prev: np.ndarray, c_prev: np.ndarray, parameters: Parameters
) -> tuple:
    concat = np.concatenate((a_prev, xt), axis=0)
    ft = sigmoid(np.dot(parameters["Wf"], concat) + parameters["bf"])
    it = sigmoid(np.dot(parameters["Wi"], concat) + parameters["bi"])
    cct = np.tanh(np.dot(parameters["Wc"], concat) + parameters["bc"])
    c_next = ft * c_prev + it * cct
    ot = sigmoid(np.dot(parameters["Wo"], concat) + parameters["bo"])
    a_next = ot * np.tanh(c_next)
    return a_next, c_next, (a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt)


def gru_step_forward(xt: np.ndarray, s_prev: np.ndarray, parameters: Parameters) -> tuple:
    z = sigmoid(np.dot(parameters["Uz"], xt) + np.dot(parameters["Wz"], s_prev) + parameters["bz"])
    r = sigmoid(np.dot(parameters["Ur"], xt) + np.dot(parameters["Wr"], s_prev) + parameters["br"])
    h = np.tanh(
        np.dot(parameters["Uh"], xt) + np.dot(parameters["Wh"], s_prev * r) + parameters["bh"]
    )
    s_next = (np.ones_like(z) - z) * h + z * s_prev
    return s_next, (s_next, s_prev, z, r, h, xt)


# -- one step backward -------------------------------------------------------------------------


def rnn_step_backward(
    da: np.ndarray, gradients: Parameters, parameters: Parameters, cache: tuple
) -> np.ndarray:
    """Document 000's step: accumulate into ``gradients`` and return ``da_prev``."""
    a_next, a_prev, xt = cache
    dtanh = (1 - a_next * a_next) * da
    gradients["dba"] += dtanh
    gradients["dWax"] += np.dot(dtanh, xt.T)
    gradients["dWaa"] += np.dot(dtanh, a_prev.T)
    return np.dot(parameters["Waa"].T, dtanh)


def lstm_cell_backward(
    da_next: np.ndarray, dc_next: np.ndarray, cache: tuple, parameters: Parameters
) -> Parameters:
    """Document 002's ``lstm_cell_backward``: every gradient of one step, in a fresh dict."""
    a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt = cache
    n_a = a_next.shape[0]
    tanh_c = np.tanh(c_next)
    dot = da_next * tanh_c * ot * (1 - ot)
    dcct = (dc_next * it + ot * (1 - np.square(tanh_c)) * it * da_next) * (1 - np.square(cct))
    dit = (dc_next * cct + ot * (1 - np.square(tanh_c)) * cct * da_next) * it * (1 - it)
    dft = (dc_next * c_prev + ot * (1 - np.square(tanh_c)) * c_prev * da_next) * ft * (1 - ft)

    concat = np.concatenate((a_prev, xt), axis=0)
    gradients = {
        "dWf": np.dot(dft, concat.T),
        "dWi": np.dot(dit, concat.T),
        "dWc": np.dot(dcct, concat.T),
        "dWo": np.dot(dot, concat.T),
        "dbf": np.sum(dft, axis=1, keepdims=True),
        "dbi": np.sum(dit, axis=1, keepdims=True),
        "dbc": np.sum(dcct, axis=1, keepdims=True),
        "dbo": np.sum(dot, axis=1, keepdims=True),
    }
    Wf, Wi, Wc, Wo = (parameters[name] for name in ("Wf", "Wi", "Wc", "Wo"))
    gradients["da_prev"] = (
        np.dot(Wf[:, :n_a].T, dft)
        + np.dot(Wi[:, :n_a].T, dit)
        + np.dot(Wc[:, :n_a].T, dcct)
        + np.dot(Wo[:, :n_a].T, dot)
    )
    gradients["dc_prev"] = dc_next * ft + ot * (1 - np.square(tanh_c)) * ft * da_next
    gradients["dxt"] = (
        np.dot(Wf[:, n_a:].T, dft)
        + np.dot(Wi[:, n_a:].T, dit)
        + np.dot(Wc[:, n_a:].T, dcct)
        + np.dot(Wo[:, n_a:].T, dot)
    )
    return gradients


def gru_step_backward(ds: np.ndarray, cache: tuple, parameters: Parameters) -> Parameters:
    """Back through document 004's GRU step, written in the style of document 002."""
    _, s_prev, z, r, h, xt = cache
    dh = ds * (1 - z) * (1 - np.square(h))
    dz = ds * (s_prev - h) * z * (1 - z)
    d_reset_state = np.dot(parameters["Wh"].T, dh)
    dr = d_reset_state * s_prev * r * (1 - r)
    return {
        "dUz": np.dot(dz, xt.T),
        "dWz": np.dot(dz, s_prev.T),
        "dbz": dz,
        "dUr": np.dot(dr, xt.T),
        "dWr": np.dot(dr, s_prev.T),
        "dbr": dr,
        "dUh": np.dot(dh, xt.T),
        "dWh": np.dot(dh, (s_prev * r).T),
        "dbh": dh,
        "ds_prev": ds * z
        + d_reset_state * r
        + np.dot(parameters["Wz"].T, dz)
        + np.dot(parameters["Wr"].T, dr),
    }


# -- whole sequences ---------------------------------------------------------------------------


def _one_hot(index: int, vocab_size: int) -> np.ndarray:
    x = np.zeros((vocab_size, 1))
    x[index] = 1
    return x


def _forward(kind: str, parameters: Parameters, X: Sequence[int]) -> tuple[list, list]:
    """Run the cell and the head over one sample; return the per-step caches and predictions."""
    n_a = parameters["Wya"].shape[1]
    n_x = {
        "rnn": lambda: parameters["Wax"].shape[1],
        "lstm": lambda: parameters["Wf"].shape[1] - n_a,
        "gru": lambda: parameters["Uz"].shape[1],
    }[kind]()
    a_prev = np.zeros((n_a, 1))
    c_prev = np.zeros((n_a, 1))
    caches, y_hat = [], []
    for t in range(len(X)):
        xt = _one_hot(X[t], n_x)
        if kind == "rnn":
            a_prev, cache = rnn_step_forward(xt, a_prev, parameters)
        elif kind == "lstm":
            a_prev, c_prev, cache = lstm_cell_forward(xt, a_prev, c_prev, parameters)
        else:
            a_prev, cache = gru_step_forward(xt, a_prev, parameters)
        caches.append(cache)
        y_hat.append(softmax(np.dot(parameters["Wya"], a_prev) + parameters["by"]))
    return caches, y_hat


def predict(kind: str, parameters: Parameters, X: Sequence[int]) -> list[np.ndarray]:
    """The softmax output of every step of one sample (inference)."""
    return _forward(kind, parameters, X)[1]


def sequence_loss_and_gradients(
    kind: str, parameters: Parameters, X: Sequence[int], Y: Sequence[int]
) -> tuple[float, Parameters]:
    """Forward one sample, sum the cross-entropy over its steps, and back-propagate through time.

    Returns the loss and the gradient of every parameter (keys ``"d" + name``).
    """
    caches, y_hat = _forward(kind, parameters, X)
    loss = 0.0
    for t in range(len(X)):
        loss -= float(np.log(y_hat[t][Y[t], 0]))

    gradients = {"d" + name: np.zeros_like(value) for name, value in parameters.items()}
    n_a = parameters["Wya"].shape[1]
    da_next = np.zeros((n_a, 1))
    dc_next = np.zeros((n_a, 1))
    for t in reversed(range(len(X))):
        dy = np.copy(y_hat[t])
        dy[Y[t]] -= 1
        gradients["dWya"] += np.dot(dy, caches[t][0].T)
        gradients["dby"] += dy
        da = np.dot(parameters["Wya"].T, dy) + da_next
        if kind == "rnn":
            da_next = rnn_step_backward(da, gradients, parameters, caches[t])
            continue
        if kind == "lstm":
            step = lstm_cell_backward(da, dc_next, caches[t], parameters)
            da_next, dc_next = step["da_prev"], step["dc_prev"]
        else:
            step = gru_step_backward(da, caches[t], parameters)
            da_next = step["ds_prev"]
        for name in gradients:
            if name in step:
                gradients[name] += step[name]
    return loss, gradients


def update_parameters(parameters: Parameters, gradients: Parameters, lr: float) -> None:
    """Plain gradient descent, as document 000's ``update_parameters``."""
    for name in parameters:
        parameters[name] += -lr * gradients["d" + name]


def train_on_sample(
    kind: str, parameters: Parameters, X: Sequence[int], Y: Sequence[int], lr: float
) -> float:
    """One training step on one sample (the textbook code updates after every sequence)."""
    loss, gradients = sequence_loss_and_gradients(kind, parameters, X, Y)
    update_parameters(parameters, gradients, lr)
    return loss


def parameters_from_model(kind: str, model: mt.Sequential) -> Parameters:
    """The textbook parameters equal to ``Sequential(Unroll(cell), Dense)``'s, in float64.

    Our cells keep PyTorch's fused layout (``weight_ih`` rows in gate order, two biases); the
    textbook cells keep one matrix per gate, over ``[a_prev; x]`` for the LSTM, and one bias. A GRU
    must have ``reset_after=False``, the textbook form.
    """
    unroll, dense = model[0], model[1]
    if not isinstance(unroll, mt.Unroll) or not isinstance(dense, mt.Dense):
        raise TypeError("parameters_from_model: expected Sequential(Unroll(cell), Dense)")
    cell = unroll.cell
    n_a = cell.hidden_size
    w_ih = cell.weight_ih.data.astype(np.float64)
    w_hh = cell.weight_hh.data.astype(np.float64)
    if cell.bias_ih is None or cell.bias_hh is None or dense.bias is None:
        raise ValueError("parameters_from_model: the textbook cells and head have biases")
    bias = (cell.bias_ih.data + cell.bias_hh.data).astype(np.float64)[:, None]

    def rows(gate: int) -> slice:
        return slice(gate * n_a, (gate + 1) * n_a)

    if kind == "rnn":
        parameters = {"Wax": w_ih, "Waa": w_hh, "ba": bias}
    elif kind == "lstm":
        parameters = {}
        for name, gate in (("i", 0), ("f", 1), ("c", 2), ("o", 3)):  # PyTorch order i, f, g, o
            parameters["W" + name] = np.concatenate((w_hh[rows(gate)], w_ih[rows(gate)]), axis=1)
            parameters["b" + name] = bias[rows(gate)]
    elif kind == "gru":
        if not isinstance(cell, mt.GRUCell) or cell.reset_after:
            raise ValueError("parameters_from_model: the textbook GRU needs reset_after=False")
        parameters = {}
        for name, gate in (("r", 0), ("z", 1), ("h", 2)):  # PyTorch order r, z, n
            parameters["U" + name] = w_ih[rows(gate)]
            parameters["W" + name] = w_hh[rows(gate)]
            parameters["b" + name] = bias[rows(gate)]
    else:
        raise ValueError(f"parameters_from_model: kind must be one of {KINDS}, got {kind!r}")
    parameters["Wya"] = dense.weight.data.astype(np.float64)
    parameters["by"] = dense.bias.data.astype(np.float64)[:, None]
    return {name: np.array(value) for name, value in parameters.items()}
