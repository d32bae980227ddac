"""Embedding: a lookup table from integer ids to learned vectors."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from .. import init
from ..module import Config, Module, Parameter, Shapes, described, dtype_name
from ..validation import check_size, grad_input, int_input, no_forward_error

__all__ = ["Embedding"]


class Embedding(Module):
    r"""Maps integer ids to rows of ``weight``: :math:`y[\dots] = W[\mathrm{ids}[\dots]]`.

    Equivalent to multiplying a one-hot encoding by ``weight`` (the classic tutorials'
    ``U[:, x_t]``), without building the one-hot matrix. Backward scatters the upstream gradient
    into the rows that were looked up (``np.add.at``: repeated ids accumulate).

    Parameters
    ----------
    num_embeddings : int
        Vocabulary size; valid ids are ``0 .. num_embeddings - 1``.
    embedding_dim : int
        Length of each vector.
    seed : int or numpy.random.Generator, optional
        Random state of the N(0, 1) initialisation (PyTorch's).
    dtype : float32 or float64, optional
        Of ``weight``; default :func:`minitorch_rnn.get_default_dtype`.

    Shapes
    ------
    ids ``(...)`` of integers -> ``(..., embedding_dim)``;
    ``weight`` ``(num_embeddings, embedding_dim)``.
    ``backward`` returns ``None``: integer ids have no gradient.
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        *,
        seed: init.Seed = None,
        dtype: DTypeLike | None = None,
    ) -> None:
        super().__init__()
        shape = (
            check_size(num_embeddings, "Embedding", "num_embeddings"),
            check_size(embedding_dim, "Embedding", "embedding_dim"),
        )
        self.weight = Parameter(init.normal(shape, scale=1.0, seed=seed, dtype=dtype))
        self._ids: np.ndarray | None = None

    def config(self) -> Config:
        """``{"class": "Embedding", "num_embeddings", "embedding_dim", "dtype"}``."""
        return described(
            self,
            num_embeddings=self.num_embeddings,
            embedding_dim=self.embedding_dim,
            dtype=dtype_name(self.weight.dtype),
        )

    @classmethod
    def parameter_shapes(
        cls, arguments: Mapping[str, Any], shapes_of: Callable[[Any], Shapes]
    ) -> Shapes | None:
        return {
            "weight": (
                check_size(arguments.get("num_embeddings"), "Embedding", "num_embeddings"),
                check_size(arguments.get("embedding_dim"), "Embedding", "embedding_dim"),
            )
        }

    @property
    def num_embeddings(self) -> int:
        """Vocabulary size, read from ``weight`` (which may be reassigned, e.g. to grow it)."""
        return int(self.weight.shape[0])

    @property
    def embedding_dim(self) -> int:
        """Length of each vector, read from ``weight``."""
        return int(self.weight.shape[1])

    def forward(self, ids: Any) -> np.ndarray:
        """Look up ``weight[ids]``."""
        ids = int_input(ids, "Embedding", name="ids")
        if ids.size and (ids.min() < 0 or ids.max() >= self.num_embeddings):
            raise ValueError(
                f"Embedding: ids must lie in [0, {self.num_embeddings - 1}], got values in "
                f"[{ids.min()}, {ids.max()}]"
            )
        self._ids = ids
        return self.weight.data[ids]

    def backward(self, grad_output: Any) -> None:
        """Accumulate the gradient into the looked-up rows of ``weight.grad``."""
        if self._ids is None:
            raise no_forward_error("Embedding")
        shape = (*self._ids.shape, self.embedding_dim)
        grad = grad_input(grad_output, "Embedding", shape, self.weight.dtype)
        np.add.at(self.weight.grad, self._ids.reshape(-1), grad.reshape(-1, self.embedding_dim))
        return None

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}"
