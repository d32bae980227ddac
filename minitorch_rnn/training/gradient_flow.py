"""``GradientFlow``: record how the gradient flows back through time while a model trains.

Each chosen recurrent layer is an :class:`~minitorch_rnn.Unroll` with ``record_grad_norms`` on, so
that its every ``backward`` leaves ``grad_norms``: entry ``t`` is the L2 norm of d loss / d h_t
over the batch and hidden units (see :class:`~minitorch_rnn.Unroll`). This callback switches that
on for the chosen layers, keeps a copy every ``every`` batches, and writes the epoch's average per
position into the history, so the curves are saved with the rest of it (``--history``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from ..module import Module
from ..recurrent.unroll import Unroll
from ..validation import is_int
from .callback import Callback

__all__ = ["GradientFlow"]

Logs = dict[str, Any]


class GradientFlow(Callback):
    """Record the per-time-step gradient norms of recurrent layers every ``every`` batches.

    Parameters
    ----------
    layers : str or iterable of str, optional
        Dotted module names as in ``model.named_modules()`` (``"0"``, ``"rnn.layer1"``, ...). A
        name may denote an :class:`~minitorch_rnn.Unroll` or anything holding Unrolls (a stack,
        a :class:`~minitorch_rnn.Bidirectional`, a ``Sequential``): every Unroll below it is
        recorded, under its own full name (``"0.layer0.backward_unroll"``). Default: every
        Unroll of the model.
    every : int
        Keep the norms of batch 0, ``every``, ``2 * every``, ... (counted over the whole run, not
        per epoch).
    prefix : str
        Start of the history keys.

    Attributes
    ----------
    records : list of (epoch, batch, dict)
        Every kept record: the 0-based epoch and batch, and for each layer name a float64 array
        ``(T,)`` of that batch's norms, entry ``t`` belonging to input position ``t``.
    layer_names : list of str
        The names of the recorded Unrolls (set when training begins).

    Notes
    -----
    At the end of every epoch, for each layer and input position ``t``, the history gets the key
    ``f"{prefix}/{layer}/{t}"`` holding the mean of that epoch's kept norms at ``t`` (NaN if no
    batch of the epoch was kept, or no kept batch had ``t + 1`` steps). These keys go into the
    history directly, not into the epoch logs, so progress lines stay short. :meth:`curve` turns
    them back into an array.

    Recording is switched on when training begins (``on_train_begin``) and each layer's previous
    ``record_grad_norms`` is put back when it ends. The norms come from backward passes run in
    this process: with a strategy that runs them elsewhere (``RayStrategy``) nothing is recorded
    and a ``RuntimeError`` says so. If ``fit`` ends with an exception the Trainer calls no
    ``on_train_end``, so the layers keep recording; set ``record_grad_norms`` back yourself then.

    Examples
    --------
    >>> import minitorch_rnn as mt
    >>> flow = mt.callbacks.GradientFlow(every=5)
    >>> # trainer = mt.Trainer(model, loss, opt, callbacks=[flow]); trainer.fit(...)
    >>> # flow.records[-1][2]["0"] is the last kept (T,) array of layer "0"
    """

    def __init__(
        self,
        layers: str | Iterable[str] | None = None,
        every: int = 10,
        prefix: str = "grad_norm",
    ) -> None:
        if isinstance(layers, str):
            layers = [layers]
        names = None if layers is None else list(layers)
        if names is not None and (not names or not all(isinstance(n, str) for n in names)):
            raise TypeError(f"GradientFlow: layers must be names (str) or None, got {layers!r}")
        if not is_int(every) or every < 1:
            raise ValueError(f"GradientFlow: every must be an int >= 1, got {every!r}")
        if not isinstance(prefix, str) or not prefix:
            raise TypeError(f"GradientFlow: prefix must be a non-empty str, got {prefix!r}")
        self.layers = names
        self.every = int(every)
        self.prefix = prefix
        self.records: list[tuple[int, int, dict[str, np.ndarray]]] = []
        self.layer_names: list[str] = []
        self._unrolls: dict[str, Unroll] = {}
        self._previous: dict[str, bool] = {}
        self._batches_seen = 0
        self._epoch = 0
        self._sums: dict[str, np.ndarray] = {}
        self._counts: dict[str, np.ndarray] = {}

    # -- choosing and switching on -------------------------------------------------------------

    def _resolve(self, model: Module) -> dict[str, Unroll]:
        modules = dict(model.named_modules())
        roots = [""] if self.layers is None else self.layers
        found: dict[str, Unroll] = {}
        for root in roots:
            if root not in modules:
                known = [name for name in modules if name]
                raise KeyError(
                    f"GradientFlow: the model has no module named {root!r}; names: {known}"
                )
            unrolls = {
                name: module
                for name, module in modules.items()
                if isinstance(module, Unroll) and _is_below(name, root)
            }
            if not unrolls:
                raise TypeError(
                    f"GradientFlow: module {root!r} ({type(modules[root]).__name__}) holds no "
                    "Unroll whose gradient norms could be recorded"
                )
            found.update(unrolls)
        return found

    def on_train_begin(self, logs: Logs) -> None:
        self._unrolls = self._resolve(self.trainer.model)
        self.layer_names = list(self._unrolls)
        self._previous = {
            name: bool(getattr(unroll, "record_grad_norms", False))
            for name, unroll in self._unrolls.items()
        }
        for unroll in self._unrolls.values():
            unroll.record_grad_norms = True
        self.records = []
        self._batches_seen = 0

    def on_train_end(self, logs: Logs) -> None:
        for name, unroll in self._unrolls.items():
            unroll.record_grad_norms = self._previous[name]

    # -- recording -----------------------------------------------------------------------------

    def on_epoch_begin(self, epoch: int, logs: Logs) -> None:
        self._epoch = epoch
        self._sums, self._counts = {}, {}

    def on_batch_end(self, batch: int, logs: Logs) -> None:
        keep = self._batches_seen % self.every == 0
        self._batches_seen += 1
        if not keep:
            return
        record: dict[str, np.ndarray] = {}
        for name, unroll in self._unrolls.items():
            norms = getattr(unroll, "grad_norms", None)
            if norms is None:
                raise RuntimeError(
                    f"GradientFlow: layer {name!r} has no grad_norms after batch {batch}: its "
                    "backward did not run in this process (a distributed strategy?)"
                )
            record[name] = np.array(norms, dtype=np.float64)
            self._accumulate(name, record[name])
        self.records.append((self._epoch, batch, record))

    def _accumulate(self, name: str, norms: np.ndarray) -> None:
        steps = norms.shape[0]
        sums = self._sums.setdefault(name, np.zeros(0))
        counts = self._counts.setdefault(name, np.zeros(0))
        if sums.shape[0] < steps:  # a longer batch than any before in this epoch
            sums = np.concatenate([sums, np.zeros(steps - sums.shape[0])])
            counts = np.concatenate([counts, np.zeros(steps - counts.shape[0])])
        sums[:steps] += norms
        counts[:steps] += 1
        self._sums[name], self._counts[name] = sums, counts

    def on_epoch_end(self, epoch: int, logs: Logs) -> None:
        history = self.trainer.history
        epochs_before = history.epochs
        for name in self.layer_names:
            sums = self._sums.get(name, np.zeros(0))
            counts = self._counts.get(name, np.zeros(0))
            means = np.full(len(sums), np.nan)
            np.divide(sums, counts, out=means, where=counts > 0)
            known = max(self._steps_in_history(name), len(means))
            for position in range(known):
                values = history.setdefault(self._key(name, position), [])
                # a position first seen this epoch gets NaN for the epochs before
                values.extend([float("nan")] * (epochs_before - len(values)))
                values.append(float(means[position]) if position < len(means) else float("nan"))

    def _key(self, layer: str, position: int) -> str:
        return f"{self.prefix}/{layer}/{position}"

    def _steps_in_history(self, layer: str) -> int:
        start = f"{self.prefix}/{layer}/"
        return sum(1 for key in self.trainer.history if key.startswith(start))

    def curve(self, layer: str, history: Mapping[str, Any] | None = None) -> np.ndarray:
        """The per-epoch mean norms of ``layer`` as an array ``(epochs, T)`` (from the history).

        Parameters
        ----------
        layer : str
            One of :attr:`layer_names`.
        history : mapping, optional
            A history (e.g. read back from a ``--history`` JSON file); default: the trainer's.
        """
        source = self.trainer.history if history is None else history
        start = f"{self.prefix}/{layer}/"
        columns = sorted(
            (int(key[len(start) :]), values)
            for key, values in source.items()
            if key.startswith(start)
        )
        if not columns:
            raise KeyError(f"GradientFlow: no recorded norms for layer {layer!r}")
        return np.array([values for _, values in columns], dtype=np.float64).T

    # -- resume --------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        return {"batches_seen": self._batches_seen}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self._batches_seen = int(state["batches_seen"])


def _is_below(name: str, root: str) -> bool:
    return root == "" or name == root or name.startswith(root + ".")
