"""A two-layer network learns XOR with plain gradient descent; prints its loss falling.

Run with ``python -m minitorch_rnn.examples.xor``.
"""

from __future__ import annotations

import numpy as np

import minitorch_rnn as mt


def train_xor(epochs: int = 2000, learning_rate: float = 0.5, seed: int = 0) -> list[float]:
    """Train ``Dense(2, 8) -> Tanh -> Dense(8, 1) -> Logistic`` with BCE; return the losses."""
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    y = np.array([[0], [1], [1], [0]], dtype=np.float32)
    rng = np.random.default_rng(seed)
    model = mt.Sequential(
        mt.Dense(2, 8, seed=rng), mt.Tanh(), mt.Dense(8, 1, seed=rng), mt.Logistic()
    )
    loss_fn = mt.BCELoss()
    losses = []
    for epoch in range(epochs):
        model.zero_grad()
        loss = loss_fn(model(x), y)
        model.backward(loss_fn.backward())
        for parameter in model.parameters():
            parameter.data -= np.float32(learning_rate) * parameter.grad
        losses.append(loss)
        if epoch % (epochs // 10) == 0 or epoch == epochs - 1:
            print(f"epoch {epoch:5d}  loss {loss:.4f}")
    print("predictions:", np.round(model(x).ravel(), 3), "targets:", y.ravel())
    return losses


if __name__ == "__main__":
    train_xor()
