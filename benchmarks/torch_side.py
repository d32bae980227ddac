"""PyTorch's side of the comparison, built with the same weights as ours (optional: needs torch).

``nn.RNN/GRU/LSTM(65, H, batch_first=True)`` + ``nn.Linear(H, 65)`` + ``F.cross_entropy`` +
``torch.optim.SGD``, on two threads (numpy's OpenBLAS uses two as well on this machine). Our
parameters follow PyTorch's names, layouts and gate orders, so the weights copy over unchanged and
both frameworks compute the same function — checked by comparing the losses of one batch.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

import minitorch_rnn as mt

from .configs import VOCAB, Shape
from .ours import LEARNING_RATE
from .workload import Batch, Workload

__all__ = ["THREADS", "import_torch", "torch_workload"]

THREADS = 2


def import_torch() -> tuple[ModuleType | None, str]:
    """``(torch, "")`` when PyTorch imports, else ``(None, reason)``; sets its thread count."""
    try:
        torch = importlib.import_module("torch")
    except ImportError as error:
        return None, f"torch not importable ({error}); PyTorch columns skipped"
    torch.set_num_threads(THREADS)
    return torch, ""


def _recurrent_class(torch: ModuleType, cell: str) -> Any:
    return {"rnn": torch.nn.RNN, "gru": torch.nn.GRU, "lstm": torch.nn.LSTM}[cell]


def _copy_weights(torch: ModuleType, ours: mt.Sequential, recurrent: Any, head: Any) -> None:
    unroll, dense = ours[0], ours[1]
    if not isinstance(unroll, mt.Unroll) or not isinstance(dense, mt.Dense):
        raise TypeError("torch_workload: expected Sequential(Unroll(cell), Dense)")
    cell = unroll.cell
    pairs = [
        (recurrent.weight_ih_l0, cell.weight_ih),
        (recurrent.weight_hh_l0, cell.weight_hh),
        (recurrent.bias_ih_l0, cell.bias_ih),
        (recurrent.bias_hh_l0, cell.bias_hh),
        (head.weight, dense.weight),
        (head.bias, dense.bias),
    ]
    with torch.no_grad():
        for tensor, parameter in pairs:
            if parameter is None:
                raise ValueError("torch_workload: our model must have biases, as PyTorch's has")
            tensor.copy_(torch.from_numpy(parameter.data.copy()))


def torch_workload(
    torch: ModuleType, cell: str, shape: Shape, batch: Batch, ours: mt.Sequential
) -> Workload:
    """PyTorch training and inference steps on ``batch``, starting from ``ours``' weights."""
    dtype = torch.float64 if shape.dtype == "float64" else torch.float32
    recurrent = _recurrent_class(torch, cell)(VOCAB, shape.hidden, batch_first=True).to(dtype)
    head = torch.nn.Linear(shape.hidden, VOCAB).to(dtype)
    _copy_weights(torch, ours, recurrent, head)
    parameters = list(recurrent.parameters()) + list(head.parameters())
    optimizer = torch.optim.SGD(parameters, lr=LEARNING_RATE)
    inputs = torch.from_numpy(batch.inputs)
    targets = torch.from_numpy(batch.targets).reshape(-1)
    cross_entropy = torch.nn.functional.cross_entropy

    def logits() -> Any:
        outputs, _ = recurrent(inputs)
        return head(outputs).reshape(-1, VOCAB)

    def train() -> float:
        optimizer.zero_grad()
        loss = cross_entropy(logits(), targets)
        loss.backward()
        optimizer.step()
        return float(loss.detach())

    def infer() -> Any:
        with torch.inference_mode():
            return logits()

    def loss() -> float:
        return float(cross_entropy(infer(), targets))

    return Workload(train=train, infer=infer, tokens=batch.targets.size, loss=loss)
