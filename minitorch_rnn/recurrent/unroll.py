r"""Unroll: a cell over a whole sequence, with backpropagation through time; and Bidirectional.

The cell knows one step; :class:`Unroll` owns time: the loop, the state carried forward, the
gradient carried backward (``grad_h_out[t] + grad_h_next``, and the cell gradient of an LSTM), the
masking of padded steps and the truncation of BPTT. It keeps every per-step array in preallocated
time-major buffers ``(T, B, ...)``, computes the input projection of all steps in one matrix
product before the loop, and the weight and input gradients of all steps in whole-sequence matrix
products after the backward loop — per step only the recurrent product and elementwise work run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..module import Module
from ..validation import check_last_dim, check_rank, float_input, grad_input, int_input, is_int
from .cells import Cache, RecurrentCell, State

__all__ = ["Bidirectional", "Unroll"]


@dataclass
class _Trace:
    """What one training-mode forward keeps for its backward (time-major)."""

    x: np.ndarray  # (T, B, I), in processing order
    states: State  # each (T + 1, B, H); states[k][0] is the initial state
    cache: Cache  # each (T, B, width)
    valid: np.ndarray | None  # (T, B) bool, None when every step of every sample is valid
    order: np.ndarray | None  # (B, T) processing position -> sequence position, None if identity
    flip: bool  # reverse without lengths: a plain flip of the time axis


class Unroll(Module):
    r"""Run a recurrent cell over a batch of sequences and back-propagate through time.

    Parameters
    ----------
    cell : RecurrentCell
        An :class:`RNNCell`, :class:`GRUCell`, :class:`LSTMCell` or a user subclass of
        :class:`RecurrentCell`. Its parameters are this module's (``cell.weight_ih``, ...).
    return_sequences : bool
        Output the state at every step ``(B, T, H)`` (True) or only each sample's last valid
        state ``(B, H)``.
    reverse : bool
        Read each sample backwards, from its own last valid step. As in PyTorch, output ``t``
        stays aligned with input position ``t``.
    stateful : bool
        Carry the final state into the next ``forward`` (detached: gradients stop at the chunk
        boundary — truncated BPTT over a long stream). :meth:`reset_state` forgets it.
    bptt_truncate : int, optional
        The loss at step ``t`` sends gradient back through steps ``t, t-1, ..., t-k`` only
        (``k = bptt_truncate``), as in the per-output truncation of classic numpy/Theano
        tutorials; ``None`` is full BPTT. Costs ``k + 1`` backward steps per output.

    Attributes
    ----------
    state
        Final state of the last ``forward`` (``h`` or ``(h, c)``, each ``(B, H)``): each sample's
        last valid state when ``lengths`` were given.
    grad_initial_state
        Gradient of the loss w.r.t. the initial state, set by ``backward``.

    Shapes
    ------
    x ``(B, T, input_size)``; lengths ``(B,)`` ints in ``1..T``; output ``(B, T, H)`` or ``(B, H)``.
    """

    def __init__(
        self,
        cell: RecurrentCell,
        return_sequences: bool = True,
        reverse: bool = False,
        stateful: bool = False,
        bptt_truncate: int | None = None,
    ) -> None:
        super().__init__()
        if not isinstance(cell, RecurrentCell):
            raise TypeError(f"Unroll: cell must be a RecurrentCell, got {type(cell).__name__}")
        if bptt_truncate is not None and (not is_int(bptt_truncate) or bptt_truncate < 0):
            raise ValueError(
                f"Unroll: bptt_truncate must be a non-negative int or None, got {bptt_truncate!r}"
            )
        self.cell = cell
        self.return_sequences = bool(return_sequences)
        self.reverse = bool(reverse)
        self.stateful = bool(stateful)
        self.bptt_truncate = None if bptt_truncate is None else int(bptt_truncate)
        self.state: Any = None
        self.grad_initial_state: Any = None
        self._trace: _Trace | None = None

    @property
    def name(self) -> str:
        return f"Unroll({type(self.cell).__name__})"

    @property
    def hidden_size(self) -> int:
        return self.cell.hidden_size

    def reset_state(self) -> None:
        """Forget the carried state of a stateful Unroll (start of a new stream)."""
        self.state = None

    # -- forward ------------------------------------------------------------------------------

    def forward(self, x: Any, state: Any = None, lengths: Any = None) -> np.ndarray:
        """Run the cell over every step.

        Parameters
        ----------
        x : (B, T, input_size)
        state : initial state, ``h`` or ``(h, c)`` each ``(B, H)``; default zeros, or the carried
            state when ``stateful``.
        lengths : (B,) ints in ``1..T``, optional
            Valid steps of each sample of a padded batch. Past its length a sample's state stays
            unchanged and its outputs are zeros.

        Returns
        -------
        (B, T, H) if ``return_sequences`` else (B, H).
        """
        return self._run(*self._prepare(x, state, lengths))

    def _prepare(
        self, x: Any, state: Any, lengths: Any
    ) -> tuple[np.ndarray, np.ndarray | None, State]:
        """Validate everything ``forward`` takes, before any state changes."""
        cell = self.cell
        x = float_input(x, self.name, dtype=cell.dtype)
        check_rank(x, self.name, (3,))
        check_last_dim(x, self.name, cell.input_size)
        batch, steps, _ = x.shape
        if batch < 1 or steps < 1:
            raise ValueError(
                f"{self.name}: input needs at least one sample and step, got {x.shape}"
            )
        lengths_array = self._check_lengths(lengths, batch, steps)
        if state is None and self.stateful and self.state is not None:
            if _batch_of(self.state) != batch:
                raise ValueError(
                    f"{self.name}: stateful carried state has batch {_batch_of(self.state)}, got "
                    f"input batch {batch}; call reset_state() when the batch size changes"
                )
            state = self.state
        return x, lengths_array, cell.check_state(state, batch, self.name)

    def _run(self, x: np.ndarray, lengths_array: np.ndarray | None, initial: State) -> np.ndarray:
        """The forward pass proper, on validated arguments."""
        cell = self.cell
        batch, steps, _ = x.shape

        order = _processing_order(lengths_array, steps) if self.reverse else None
        flip = self.reverse and order is None
        x_time = _to_time_major(x, order, flip)
        valid = None
        if lengths_array is not None and lengths_array.min() < steps:
            valid = np.arange(steps)[:, None] < lengths_array[None, :]

        hidden = cell.hidden_size
        states = tuple(
            np.empty((steps + 1, batch, hidden), cell.dtype) for _ in range(cell.state_size)
        )
        for buffer, value in zip(states, initial, strict=True):
            buffer[0] = value
        keep = self.training
        cache = cell.allocate_cache((steps if keep else 1, batch))
        projected = cell._project_input(x_time.reshape(steps * batch, -1))
        projected = projected.reshape(steps, batch, -1)

        first_padded = steps if valid is None else int(lengths_array.min())  # type: ignore[union-attr]
        for t in range(steps):
            slot = t if keep else 0
            state_prev = tuple(s[t] for s in states)
            state_next = tuple(s[t + 1] for s in states)
            cell._step(projected[t], state_prev, state_next, {k: v[slot] for k, v in cache.items()})
            if t >= first_padded:
                frozen = ~valid[t][:, None]  # type: ignore[index]
                for prev, nxt in zip(state_prev, state_next, strict=True):
                    np.copyto(nxt, prev, where=frozen)

        final = tuple(s[steps].copy() for s in states)
        self.state = cell.public_state(final)
        self._trace = _Trace(x_time, states, cache, valid, order, flip) if keep else None

        if not self.return_sequences:
            return final[0].copy()
        outputs = states[0][1:]
        if valid is not None:
            outputs = outputs * valid[..., None]
        # a read-only view of the state buffer the backward pass keeps anyway: no (B, T, H) copy,
        # and an in-place change by the caller, which would corrupt that pass, is refused
        sequence = _to_batch_major(outputs, order, flip, contiguous=False)
        sequence.flags.writeable = False
        return sequence

    def _check_lengths(self, lengths: Any, batch: int, steps: int) -> np.ndarray | None:
        if lengths is None:
            return None
        array = int_input(lengths, self.name, name="lengths")
        if array.shape != (batch,):
            raise ValueError(
                f"{self.name}: lengths must have shape ({batch},) for a batch of {batch}, "
                f"got {array.shape}"
            )
        if array.min() < 1 or array.max() > steps:
            raise ValueError(
                f"{self.name}: lengths must lie in 1..{steps} (the number of steps), got values in "
                f"{array.min()}..{array.max()}"
            )
        return array

    # -- backward -----------------------------------------------------------------------------

    def backward(self, grad_output: Any, grad_state: Any = None) -> np.ndarray:
        """Back-propagate through time.

        Parameters
        ----------
        grad_output : (B, T, H) if ``return_sequences`` else (B, H)
        grad_state : gradient arriving at the final state (``h`` or ``(h, c)``), optional.

        Returns
        -------
        grad_x : (B, T, input_size). Parameter gradients are accumulated into the cell's
        parameters; :attr:`grad_initial_state` is set.
        """
        return self._run_backward(*self._prepare_backward(grad_output, grad_state))

    def _prepare_backward(
        self, grad_output: Any, grad_state: Any
    ) -> tuple[_Trace, np.ndarray, State]:
        """Validate what ``backward`` takes, before any state changes."""
        trace = self._trace
        if trace is None:
            raise RuntimeError(
                f"{self.name}: backward called before forward (or after a forward in eval mode, "
                "which keeps nothing, or twice for one forward)"
            )
        steps, batch = trace.x.shape[:2]
        hidden = self.cell.hidden_size
        expected = (batch, steps, hidden) if self.return_sequences else (batch, hidden)
        grad_out = grad_input(grad_output, self.name, expected, self.cell.dtype)
        grad_final = self.cell.check_state(grad_state, batch, f"{self.name}.backward")
        return trace, grad_out, grad_final

    def _run_backward(self, trace: _Trace, grad_out: np.ndarray, grad_final: State) -> np.ndarray:
        """The backward pass proper, on validated arguments."""
        cell = self.cell
        steps, batch = trace.x.shape[:2]
        hidden = cell.hidden_size
        carried = list(grad_final)
        self._trace = None

        if self.return_sequences:
            grad_out_time = _to_time_major(grad_out, trace.order, trace.flip, contiguous=False)
            if trace.valid is not None:
                grad_out_time = grad_out_time * trace.valid[..., None]
        else:
            carried[0] = carried[0] + grad_out
            grad_out_time = None

        grad_preact = np.zeros((steps, batch, cell.num_gates * hidden), cell.dtype)
        if self.bptt_truncate is None:
            grad_initial = self._backward_full(trace, grad_out_time, tuple(carried), grad_preact)
        else:
            grad_initial = self._backward_truncated(
                trace, grad_out_time, tuple(carried), grad_preact
            )

        rows = steps * batch
        grad_x_time = cell._accumulate_grads(
            grad_preact.reshape(rows, -1),
            trace.x.reshape(rows, -1),
            trace.states[0][:-1].reshape(rows, hidden),
            {k: v.reshape(rows, -1) for k, v in trace.cache.items()},
        ).reshape(steps, batch, -1)
        self.grad_initial_state = cell.public_state(grad_initial)
        return _to_batch_major(grad_x_time, trace.order, trace.flip)

    def _step_back(
        self, trace: _Trace, t: int, grad_next: State, grad_preact_t: np.ndarray
    ) -> State:
        """One step back: fill ``grad_preact_t`` and return the gradient of the state before ``t``.

        A sample past its length did not move at step ``t``: its gradient passes straight through
        and its pre-activation gradient is zero.
        """
        states = trace.states
        grad_prev = self.cell._step_backward(
            grad_next,
            tuple(s[t] for s in states),
            tuple(s[t + 1] for s in states),
            {k: v[t] for k, v in trace.cache.items()},
            grad_preact_t,
        )
        if trace.valid is not None and not trace.valid[t].all():
            frozen = ~trace.valid[t][:, None]
            grad_preact_t *= ~frozen
            grad_prev = tuple(
                np.where(frozen, g_next, g_prev)
                for g_prev, g_next in zip(grad_prev, grad_next, strict=True)
            )
        return grad_prev

    def _backward_full(
        self,
        trace: _Trace,
        grad_out_time: np.ndarray | None,
        grad_final: State,
        grad_preact: np.ndarray,
    ) -> State:
        carried = grad_final
        for t in reversed(range(grad_preact.shape[0])):
            if grad_out_time is not None:
                carried = (carried[0] + grad_out_time[t],) + carried[1:]
            carried = self._step_back(trace, t, carried, grad_preact[t])
        return carried

    def _backward_truncated(
        self,
        trace: _Trace,
        grad_out_time: np.ndarray | None,
        grad_final: State,
        grad_preact: np.ndarray,
    ) -> State:
        """Per-output truncation: each output's gradient walks back at most ``k`` steps."""
        assert self.bptt_truncate is not None
        steps = grad_preact.shape[0]
        # the final state's gradient enters at each sample's own last valid step
        last_step = trace.valid.sum(axis=0) - 1 if trace.valid is not None else None
        grad_initial = tuple(np.zeros_like(g) for g in grad_final)
        scratch = np.empty_like(grad_preact[0])
        for t_out in reversed(range(steps)):
            if last_step is None:
                ends_here = t_out == steps - 1
                carried = grad_final if ends_here else tuple(np.zeros_like(g) for g in grad_final)
            else:
                at_end = (last_step == t_out)[:, None]
                ends_here = bool(at_end.any())
                carried = tuple(np.where(at_end, g, 0) for g in grad_final)
            if grad_out_time is not None:
                carried = (carried[0] + grad_out_time[t_out], *carried[1:])
            elif not ends_here:
                continue
            last = max(t_out - self.bptt_truncate, 0)
            for t in range(t_out, last - 1, -1):
                carried = self._step_back(trace, t, carried, scratch)
                grad_preact[t] += scratch
            if last == 0:
                grad_initial = tuple(a + b for a, b in zip(grad_initial, carried, strict=True))
        return grad_initial

    def extra_repr(self) -> str:
        options = [f"return_sequences={self.return_sequences}"]
        if self.reverse:
            options.append("reverse=True")
        if self.stateful:
            options.append("stateful=True")
        if self.bptt_truncate is not None:
            options.append(f"bptt_truncate={self.bptt_truncate}")
        return ", ".join(options)


def _batch_of(state: Any) -> int:
    first = state[0] if isinstance(state, tuple) else state
    return int(np.shape(first)[0])


def _processing_order(lengths: np.ndarray | None, steps: int) -> np.ndarray | None:
    """For reverse reading: ``order[b, p]`` is the sequence position processed at step ``p``.

    Each sample is read from its own last valid step down to 0; padded positions keep their
    place. The map is its own inverse. ``None`` means a plain flip (no lengths).
    """
    if lengths is None or lengths.min() == steps:
        return None
    positions = np.arange(steps)[None, :]
    return np.where(positions < lengths[:, None], lengths[:, None] - 1 - positions, positions)


def _to_time_major(
    array: np.ndarray, order: np.ndarray | None, flip: bool, contiguous: bool = True
) -> np.ndarray:
    """(B, T, F) batch-major in sequence order -> (T, B, F) time-major in processing order.

    ``contiguous=False`` may return a strided view instead of a copy (for read-only use).
    """
    if order is not None:
        array = np.take_along_axis(array, order[..., None], axis=1)
    elif flip:
        array = array[:, ::-1]
    array = array.transpose(1, 0, 2)
    return np.ascontiguousarray(array) if contiguous else array


def _to_batch_major(
    array: np.ndarray, order: np.ndarray | None, flip: bool, contiguous: bool = True
) -> np.ndarray:
    """(T, B, F) time-major in processing order -> (B, T, F) batch-major in sequence order.

    ``contiguous=False`` may return a strided view instead of a copy.
    """
    array = array.transpose(1, 0, 2)
    if order is not None:
        return np.take_along_axis(array, order[..., None], axis=1)
    if flip:
        array = array[:, ::-1]
    return np.ascontiguousarray(array) if contiguous else array


class Bidirectional(Module):
    """Two Unrolls over the same input, one forwards and one backwards, outputs merged.

    Parameters
    ----------
    forward_unroll : Unroll
        Reads left to right (``reverse=False``).
    backward_unroll : Unroll
        Reads right to left (``reverse=True``); output ``t`` is aligned with input ``t``.
    merge : {"concat", "sum"}
        ``[forward, backward]`` along the last axis (``2H``), or their sum (``H``; equal hidden
        sizes required).

    Attributes
    ----------
    state, grad_initial_state
        Pairs ``(forward, backward)`` of the two Unrolls' values.

    Shapes
    ------
    x ``(B, T, I)`` -> ``(B, T, 2H)`` (concat) or ``(B, T, H)`` (sum); without
    ``return_sequences``, ``(B, 2H)`` / ``(B, H)`` from each direction's final state.
    """

    def __init__(
        self, forward_unroll: Unroll, backward_unroll: Unroll, merge: str = "concat"
    ) -> None:
        super().__init__()
        for role, unroll, reverse in (
            ("forward_unroll", forward_unroll, False),
            ("backward_unroll", backward_unroll, True),
        ):
            if not isinstance(unroll, Unroll):
                raise TypeError(
                    f"Bidirectional: {role} must be an Unroll, got {type(unroll).__name__}"
                )
            if unroll.reverse != reverse:
                raise ValueError(f"Bidirectional: {role} must have reverse={reverse}")
        if merge not in ("concat", "sum"):
            raise ValueError(f"Bidirectional: merge must be 'concat' or 'sum', got {merge!r}")
        if forward_unroll.return_sequences != backward_unroll.return_sequences:
            raise ValueError("Bidirectional: both Unrolls must have the same return_sequences")
        if forward_unroll.cell.input_size != backward_unroll.cell.input_size:
            raise ValueError("Bidirectional: both cells must have the same input_size")
        if merge == "sum" and forward_unroll.hidden_size != backward_unroll.hidden_size:
            raise ValueError(
                "Bidirectional: merge='sum' needs equal hidden sizes, got "
                f"{forward_unroll.hidden_size} and {backward_unroll.hidden_size}"
            )
        self.forward_unroll = forward_unroll
        self.backward_unroll = backward_unroll
        self.merge = merge
        self._output_shape: tuple[int, ...] | None = None

    @property
    def state(self) -> tuple[Any, Any]:
        return self.forward_unroll.state, self.backward_unroll.state

    @property
    def grad_initial_state(self) -> tuple[Any, Any]:
        return self.forward_unroll.grad_initial_state, self.backward_unroll.grad_initial_state

    def reset_state(self) -> None:
        """Forget the carried states of stateful Unrolls."""
        self.forward_unroll.reset_state()
        self.backward_unroll.reset_state()

    def forward(self, x: Any, state: Any = None, lengths: Any = None) -> np.ndarray:
        """Run both directions; ``state`` is ``(forward_state, backward_state)`` or None."""
        if state is None:
            state = (None, None)
        elif not isinstance(state, (tuple, list)) or len(state) != 2:
            raise TypeError("Bidirectional: state must be a pair (forward_state, backward_state)")
        forward_args = self.forward_unroll._prepare(x, state[0], lengths)
        backward_args = self.backward_unroll._prepare(x, state[1], lengths)
        forward_out = self.forward_unroll._run(*forward_args)
        backward_out = self.backward_unroll._run(*backward_args)
        self._output_shape = forward_out.shape[:-1] + (
            forward_out.shape[-1] + (backward_out.shape[-1] if self.merge == "concat" else 0),
        )
        if self.merge == "sum":
            return forward_out + backward_out
        return np.concatenate([forward_out, backward_out], axis=-1)

    def backward(self, grad_output: Any, grad_state: Any = None) -> np.ndarray:
        """Split the gradient between the directions and add their input gradients."""
        if self._output_shape is None:
            raise RuntimeError("Bidirectional: backward called before forward")
        grad_output = np.asarray(grad_output)
        if grad_output.shape != self._output_shape:
            raise ValueError(
                f"Bidirectional: grad_output must have shape {self._output_shape}, "
                f"got {grad_output.shape}"
            )
        if self.merge == "sum":
            grad_forward = grad_backward = grad_output
        else:
            split = self.forward_unroll.hidden_size
            grad_forward, grad_backward = grad_output[..., :split], grad_output[..., split:]
        if grad_state is None:
            grad_state = (None, None)
        elif not isinstance(grad_state, (tuple, list)) or len(grad_state) != 2:
            raise TypeError(
                "Bidirectional: grad_state must be a pair (forward_grad_state, backward_grad_state) "
                f"or None, got {type(grad_state).__name__}"
            )
        forward_args = self.forward_unroll._prepare_backward(grad_forward, grad_state[0])
        backward_args = self.backward_unroll._prepare_backward(grad_backward, grad_state[1])
        self._output_shape = None
        grad_x = self.forward_unroll._run_backward(*forward_args)
        return grad_x + self.backward_unroll._run_backward(*backward_args)

    def extra_repr(self) -> str:
        return f"merge={self.merge!r}"
