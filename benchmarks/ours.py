"""Our side of the comparison: ``Sequential(Unroll(cell), Dense)`` + cross-entropy + SGD."""

from __future__ import annotations

import numpy as np

import minitorch_rnn as mt
from minitorch_rnn.module import input_grad_needed

from .configs import VOCAB, Shape
from .workload import Batch, Workload

__all__ = ["LEARNING_RATE", "build_model", "ours_workload"]

# Small enough that hundreds of steps on one batch neither diverge nor drive weights to denormals.
LEARNING_RATE = 1e-3


def build_model(cell: str, shape: Shape, seed: int = 0) -> mt.Sequential:
    """The benchmark model: one recurrent layer over the whole sequence, then a dense head.

    The GRU uses ``reset_after=True``, PyTorch's form, so both frameworks do the same arithmetic.
    """
    if cell not in mt.recurrent.cell_names():
        raise ValueError(
            f"build_model: cell must be one of {', '.join(mt.recurrent.cell_names())}, got {cell!r}"
        )
    recurrent = mt.recurrent.make_cell(cell, VOCAB, shape.hidden, seed=seed, dtype=shape.dtype)
    head = mt.Dense(shape.hidden, VOCAB, seed=seed + 1, dtype=shape.dtype)
    return mt.Sequential(mt.Unroll(recurrent), head)


def ours_workload(model: mt.Sequential, batch: Batch) -> Workload:
    """Training and inference steps of ``model`` on ``batch`` (the loss over every step)."""
    criterion = mt.CrossEntropyLoss()
    optimizer = mt.optim.SGD(model.parameters(), lr=LEARNING_RATE)
    inputs, targets = batch.inputs, batch.targets

    def train() -> float:
        optimizer.zero_grad()
        model.train()
        loss = criterion.forward(model.forward(inputs), targets)
        # as in the Trainer's step: the one-hot input is data and needs no gradient (nor does
        # PyTorch's, which autograd skips for a tensor without requires_grad)
        with input_grad_needed(model, False):
            model.backward(criterion.backward())
        optimizer.step()
        return loss

    def infer() -> np.ndarray:
        model.eval()
        return model.forward(inputs)

    def loss() -> float:
        return float(criterion.forward(infer(), targets))

    return Workload(train=train, infer=infer, tokens=targets.size, loss=loss)
