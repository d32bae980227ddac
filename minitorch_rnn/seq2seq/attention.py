r"""Attention: a softmax-weighted sum of keys, scored against each query.

For every query position ``i`` and key position ``j`` a score :math:`s_{ij}` says how well key
``j`` matches query ``i``; a softmax over the keys turns the scores into weights, and the context
of query ``i`` is the weighted sum of the keys. The derivation of ``backward`` is on the math page
*Attention*.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from .. import init
from ..dtype import as_float_dtype
from ..module import Config, Module, Parameter, Shapes, described, dtype_name
from ..validation import (
    check_lengths,
    check_rank,
    check_size,
    float_input,
    grad_input,
    no_forward_error,
    read_only,
    time_mask,
)

__all__ = ["SCORES", "Attention"]

SCORES = ("dot", "general", "additive")


class Attention(Module):
    r"""Attention of queries over keys with a ``"dot"``, ``"general"`` or ``"additive"`` score.

    .. math::
        s_{ij} = \mathrm{score}(q_i, k_j), \qquad
        a_{ij} = \frac{e^{s_{ij}}}{\sum_{j' < n} e^{s_{ij'}}}, \qquad
        c_i = \sum_j a_{ij}\, k_j

    with :math:`a_{ij} = 0` for the padded keys :math:`j \ge n` (``n = key_lengths[b]``) and

    - ``"dot"``: :math:`s_{ij} = q_i \cdot k_j` (needs ``query_size == key_size``);
    - ``"general"`` (Luong et al. 2015): :math:`s_{ij} = q_i \cdot (W k_j)`;
    - ``"additive"`` (Bahdanau et al. 2015): :math:`s_{ij} = v \cdot \tanh(W_q q_i + W_k k_j)`.

    Parameters
    ----------
    query_size, key_size : int
        ``Hq`` and ``Hk``, the last axes of the queries and the keys.
    score : {"dot", "general", "additive"}
        How a query and a key are compared.
    attention_size : int, optional
        ``A``, the width of the additive score's hidden layer; default ``key_size``. Only for
        ``"additive"``.
    seed : int or numpy.random.Generator, optional
        Random state of the initialisation (uniform in :math:`\pm 1/\sqrt{\text{fan-in}}`).
    dtype : float32 or float64, optional
        Parameter and computation dtype; default :func:`minitorch_rnn.get_default_dtype`.

    Attributes
    ----------
    weight : Parameter ``(Hq, Hk)``
        ``"general"`` only.
    query_weight, key_weight, v : Parameter ``(A, Hq)``, ``(A, Hk)``, ``(A,)``
        ``"additive"`` only.
    weights : numpy.ndarray ``(B, Tq, Tk)`` or None
        The attention weights of the last ``forward`` (read-only): each row sums to 1 over the
        valid keys and is exactly 0 at the padded ones.

    Shapes
    ------
    query ``(B, Tq, Hq)``, keys ``(B, Tk, Hk)``, key_lengths ``(B,)`` ints in ``1..Tk`` ->
    context ``(B, Tq, Hk)``.
    """

    def __init__(
        self,
        query_size: int,
        key_size: int,
        score: str = "dot",
        attention_size: int | None = None,
        *,
        seed: init.Seed = None,
        dtype: DTypeLike | None = None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        self.query_size = check_size(query_size, name, "query_size")
        self.key_size = check_size(key_size, name, "key_size")
        if score not in SCORES:
            raise ValueError(f"{name}: score must be one of {', '.join(SCORES)}, got {score!r}")
        if score == "dot" and self.query_size != self.key_size:
            raise ValueError(
                f"{name}: the 'dot' score needs query_size == key_size, got query_size="
                f"{self.query_size} and key_size={self.key_size} (use 'general' or 'additive')"
            )
        if attention_size is not None and score != "additive":
            raise ValueError(
                f"{name}: attention_size applies to the 'additive' score only, got score={score!r}"
            )
        self.score = score
        self._dtype = as_float_dtype(dtype)  # of the parameters; "dot" has none
        rng = init.as_generator(seed)
        if score == "general":
            self.weight = self._uniform((self.query_size, self.key_size), self.key_size, rng)
        elif score == "additive":
            size = self.key_size if attention_size is None else attention_size
            self.attention_size = check_size(size, name, "attention_size")
            shape = (self.attention_size,)
            self.query_weight = self._uniform(shape + (self.query_size,), self.query_size, rng)
            self.key_weight = self._uniform(shape + (self.key_size,), self.key_size, rng)
            self.v = self._uniform(shape, self.attention_size, rng)
        self.weights: np.ndarray | None = None
        self._cache: dict[str, Any] | None = None

    def config(self) -> Config:
        """``{"class": "Attention", "query_size", "key_size", "score", "dtype"}``, and
        ``"attention_size"`` for the additive score."""
        config = described(
            self,
            query_size=self.query_size,
            key_size=self.key_size,
            score=self.score,
            dtype=dtype_name(self._dtype),
        )
        if self.score == "additive":
            config["attention_size"] = self.attention_size
        return config

    @classmethod
    def parameter_shapes(
        cls, arguments: Mapping[str, Any], shapes_of: Callable[[Any], Shapes]
    ) -> Shapes | None:
        name = cls.__name__
        query_size = check_size(arguments.get("query_size"), name, "query_size")
        key_size = check_size(arguments.get("key_size"), name, "key_size")
        score = arguments.get("score", "dot")
        if score == "dot":
            return {}
        if score == "general":
            return {"weight": (query_size, key_size)}
        if score == "additive":
            size = arguments.get("attention_size")
            size = check_size(key_size if size is None else size, name, "attention_size")
            return {
                "query_weight": (size, query_size),
                "key_weight": (size, key_size),
                "v": (size,),
            }
        raise ValueError(f"{name}: score must be one of {', '.join(SCORES)}, got {score!r}")

    def _uniform(self, shape: tuple[int, ...], fan_in: int, rng: np.random.Generator) -> Parameter:
        bound = 1.0 / math.sqrt(fan_in)
        return Parameter(init.uniform(shape, -bound, bound, rng, self._dtype))

    @property
    def dtype(self) -> np.dtype | None:
        """The parameters' dtype, which the inputs are converted to; None for ``"dot"``, which
        has no parameters and computes in the query's own dtype."""
        parameters = self.parameters()
        return parameters[0].dtype if parameters else None

    # -- forward ------------------------------------------------------------------------------

    def forward(self, query: Any, keys: Any, key_lengths: Any = None) -> np.ndarray:
        """Return the context of every query.

        Parameters
        ----------
        query : (B, Tq, Hq)
        keys : (B, Tk, Hk)
        key_lengths : (B,) ints in ``1..Tk``, optional
            Valid keys of each sample; keys at positions ``>= key_lengths[b]`` get weight 0.

        Returns
        -------
        context : (B, Tq, Hk)
        """
        query, keys, mask = self._check_inputs(query, keys, key_lengths)
        scores, parts = self._scores(query, keys)
        if mask is not None:
            scores = np.where(mask[:, None, :], scores, -np.inf)
        shifted = np.exp(scores - scores.max(axis=-1, keepdims=True))
        weights = shifted / shifted.sum(axis=-1, keepdims=True)
        self.weights = read_only(weights)
        self._cache = {"query": query, "keys": keys, "weights": weights, **parts}
        return weights @ keys

    def _check_inputs(
        self, query: Any, keys: Any, key_lengths: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        name = type(self).__name__
        query = float_input(query, name, dtype=self.dtype, name="query")
        keys = float_input(keys, name, dtype=query.dtype, name="keys")
        check_rank(query, name, (3,), "query")
        check_rank(keys, name, (3,), "keys")
        if query.shape[-1] != self.query_size:
            raise ValueError(
                f"{name}: query must have {self.query_size} features on its last axis, "
                f"got shape {query.shape}"
            )
        if keys.shape[-1] != self.key_size:
            raise ValueError(
                f"{name}: keys must have {self.key_size} features on its last axis, "
                f"got shape {keys.shape}"
            )
        if query.shape[0] != keys.shape[0]:
            raise ValueError(
                f"{name}: query and keys must have the same batch size, got {query.shape[0]} "
                f"and {keys.shape[0]}"
            )
        if keys.shape[1] < 1:
            raise ValueError(f"{name}: keys need at least one step, got shape {keys.shape}")
        if key_lengths is None:
            return query, keys, None
        lengths = check_lengths(key_lengths, keys.shape[0], keys.shape[1], f"{name}: key_lengths")
        mask = time_mask(lengths, keys.shape[1])
        return query, keys, None if mask.all() else mask

    def _scores(self, query: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
        """Scores ``(B, Tq, Tk)`` and the intermediate arrays ``backward`` needs."""
        if self.score == "dot":
            return query @ keys.transpose(0, 2, 1), {}
        if self.score == "general":
            projected_keys = keys @ self.weight.data.T  # W k_j for every key: (B, Tk, Hq)
            return query @ projected_keys.transpose(0, 2, 1), {"projected_keys": projected_keys}
        hidden = np.tanh(
            (query @ self.query_weight.data.T)[:, :, None, :]
            + (keys @ self.key_weight.data.T)[:, None, :, :]
        )  # (B, Tq, Tk, A)
        return hidden @ self.v.data, {"hidden": hidden}

    # -- backward -----------------------------------------------------------------------------

    def backward(self, grad_output: Any) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(grad_query, grad_keys)``; accumulate the score's parameter gradients.

        Parameters
        ----------
        grad_output : (B, Tq, Hk)
            d loss / d context.

        Returns
        -------
        grad_query : (B, Tq, Hq)
        grad_keys : (B, Tk, Hk)
            Exactly 0 at padded keys.
        """
        if self._cache is None:
            raise no_forward_error(type(self).__name__)
        cache = self._cache
        query, keys, weights = cache["query"], cache["keys"], cache["weights"]
        shape = (query.shape[0], query.shape[1], self.key_size)
        grad_context = grad_input(grad_output, type(self).__name__, shape, query.dtype)
        # c_i = sum_j a_ij k_j
        grad_weights = grad_context @ keys.transpose(0, 2, 1)
        grad_keys = weights.transpose(0, 2, 1) @ grad_context
        # softmax: ds_ij = a_ij (da_ij - sum_j' a_ij' da_ij'); 0 where a_ij = 0 (padded keys)
        grad_scores = weights * (
            grad_weights - np.sum(grad_weights * weights, axis=-1, keepdims=True)
        )
        grad_query = self._score_backward(grad_scores, query, keys, grad_keys)
        return grad_query, grad_keys

    def _score_backward(
        self, grad_scores: np.ndarray, query: np.ndarray, keys: np.ndarray, grad_keys: np.ndarray
    ) -> np.ndarray:
        """Back through the score: add the keys' share to ``grad_keys`` in place, accumulate the
        parameter gradients and return the query's gradient."""
        assert self._cache is not None
        if self.score == "dot":
            grad_keys += grad_scores.transpose(0, 2, 1) @ query
            return grad_scores @ keys
        if self.score == "general":
            projected_keys = self._cache["projected_keys"]
            grad_projected = grad_scores.transpose(0, 2, 1) @ query  # (B, Tk, Hq)
            self.weight.grad += _summed_outer(grad_projected, keys)
            grad_keys += grad_projected @ self.weight.data
            return grad_scores @ projected_keys
        hidden = self._cache["hidden"]
        self.v.grad += grad_scores.reshape(-1) @ hidden.reshape(-1, hidden.shape[-1])
        grad_preact = grad_scores[..., None] * self.v.data * (1 - hidden * hidden)
        grad_query_proj = grad_preact.sum(axis=2)  # (B, Tq, A)
        grad_key_proj = grad_preact.sum(axis=1)  # (B, Tk, A)
        self.query_weight.grad += _summed_outer(grad_query_proj, query)
        self.key_weight.grad += _summed_outer(grad_key_proj, keys)
        grad_keys += grad_key_proj @ self.key_weight.data
        return grad_query_proj @ self.query_weight.data

    def extra_repr(self) -> str:
        extra = f", attention_size={self.attention_size}" if self.score == "additive" else ""
        return f"{self.query_size}, {self.key_size}, score={self.score!r}{extra}"


def _summed_outer(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """``sum over b, t of outer(left[b, t], right[b, t])``: one matrix product over all rows."""
    return left.reshape(-1, left.shape[-1]).T @ right.reshape(-1, right.shape[-1])
