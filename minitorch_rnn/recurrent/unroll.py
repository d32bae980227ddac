r"""Unroll: a cell over a whole sequence, with backpropagation through time.

The cell knows one step; :class:`Unroll` owns time: the loop, the state carried forward, the
gradient carried backward (``grad_h_out[t] + grad_h_next``, and the cell gradient of an LSTM), the
masking of padded steps and the truncation of BPTT. It keeps every per-step array in preallocated
time-major buffers ``(T, B, ...)``, computes the input projection of all steps in one matrix
product before the loop, and the weight and input gradients of all steps in whole-sequence matrix
products after the backward loop — per step only the recurrent product and elementwise work run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ..module import Config, Module, Shapes, described
from ..validation import (
    check_last_dim,
    check_lengths,
    check_rank,
    check_size,
    float_input,
    grad_input,
    time_mask,
)
from .cell import Cache, RecurrentCell, State, checked_state_grads, run_step
from .time_order import (
    Trace,
    norms_by_position,
    processing_order,
    squared_norms,
    time_major_slice,
    to_batch_major,
    to_time_major,
)

__all__ = [
    "EVAL_CHUNK_MAX_STEPS",
    "EVAL_CHUNK_ROWS",
    "Unroll",
    "UnrollGrads",
    "UnrollInputs",
    "eval_chunk_steps",
]

#: (step, sample) rows of input an eval-mode forward projects at once, and the most steps: large
#: enough for an efficient matrix product, small enough that the projection stays a few MiB
EVAL_CHUNK_ROWS = 2048
EVAL_CHUNK_MAX_STEPS = 64


def eval_chunk_steps(batch: int) -> int:
    """Steps whose input an eval-mode forward projects at once, for a batch of ``batch``."""
    return max(1, min(EVAL_CHUNK_ROWS // batch, EVAL_CHUNK_MAX_STEPS))


@dataclass(frozen=True)
class UnrollInputs:
    """The arguments of :meth:`Unroll.forward`, checked by :meth:`Unroll.check_inputs`.

    Attributes
    ----------
    x : (B, T, I) array in the cell's dtype
    lengths : (B,) int64 array, or None
    initial_state : tuple of (B, H) arrays, one per state name of the cell
    """

    x: np.ndarray
    lengths: np.ndarray | None
    initial_state: State


@dataclass(frozen=True)
class UnrollGrads:
    """The arguments of :meth:`Unroll.backward`, checked by :meth:`Unroll.check_grads`.

    Attributes
    ----------
    grad_output : (B, T, H) or (B, H) array in the cell's dtype
    grad_final_state : tuple of (B, H) arrays, one per state name of the cell
    """

    grad_output: np.ndarray
    grad_final_state: State


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
    input_grad : bool
        Whether ``backward`` computes the gradient of the input ``x``. ``False`` skips that
        ``(T*B, I)`` product and ``backward`` returns None: for a first layer fed data, which
        needs no gradient (the Trainer also tells the first module so, see
        :attr:`~minitorch_rnn.Module.needs_input_grad`).
    record_grad_norms : bool
        Record :attr:`grad_norms` at every ``backward`` (off by default: no cost then).

    Attributes
    ----------
    state
        Final state of the last ``forward`` (``h``, or a tuple with one array per state name such as
        ``(h, c)``, each ``(B, H)``): each sample's
        last valid state when ``lengths`` were given.
    grad_initial_state
        Gradient of the loss w.r.t. the initial state, set by ``backward``.
    grad_norms : numpy.ndarray of float64, shape (T,), or None
        Set by every ``backward`` when ``record_grad_norms`` is true: entry ``t`` is the L2 norm,
        over the batch and the hidden units, of the total gradient d loss / d h_t of the output
        state at input position ``t`` — the external gradient of output ``t`` plus what flows
        back from later steps (later in processing order: for ``reverse``, from positions before
        ``t``; entries stay aligned with input positions). Plotted against ``t`` it shows the
        gradient vanishing or exploding through time. Past a sample's length its state is
        frozen: the entry there holds the gradient passing through the frozen state, i.e. the
        gradient of its final state (``grad_state``, or the output gradient without
        ``return_sequences``); with ``bptt_truncate`` that gradient counts at the last valid step
        only, so past the end the sample contributes 0. With ``bptt_truncate=k`` an entry sums
        what reaches ``h_t`` from the outputs at most ``k`` steps later.

    Shapes
    ------
    x ``(B, T, input_size)``; lengths ``(B,)`` ints in ``1..T``; output ``(B, T, H)`` or ``(B, H)``.

    Notes
    -----
    ``forward`` is :meth:`check_inputs` then :meth:`run`, and ``backward`` is :meth:`check_grads`
    then :meth:`run_backward`. A container that drives several Unrolls (``Bidirectional``) calls
    the halves itself: it checks every Unroll's arguments before any of them runs, so a rejected
    call changes nothing.
    """

    accepts_lengths: ClassVar[bool] = True

    def __init__(
        self,
        cell: RecurrentCell,
        return_sequences: bool = True,
        reverse: bool = False,
        stateful: bool = False,
        bptt_truncate: int | None = None,
        *,
        input_grad: bool = True,
        record_grad_norms: bool = False,
    ) -> None:
        super().__init__()
        if not isinstance(cell, RecurrentCell):
            raise TypeError(f"Unroll: cell must be a RecurrentCell, got {type(cell).__name__}")
        if bptt_truncate is not None:
            bptt_truncate = check_size(bptt_truncate, "Unroll", "bptt_truncate", minimum=0)
        self.cell = cell
        self.return_sequences = bool(return_sequences)
        self.reverse = bool(reverse)
        self.stateful = bool(stateful)
        self.bptt_truncate = bptt_truncate
        self.input_grad = bool(input_grad)
        self.record_grad_norms = bool(record_grad_norms)
        self.state: Any = None
        self.grad_initial_state: Any = None
        self.grad_norms: np.ndarray | None = None
        self._trace: Trace | None = None

    def config(self) -> Config:
        """``{"class": "Unroll", "cell": <the cell's config>, ...}`` with every constructor
        argument."""
        return described(
            self,
            cell=self.cell.config(),
            return_sequences=self.return_sequences,
            reverse=self.reverse,
            stateful=self.stateful,
            bptt_truncate=self.bptt_truncate,
            input_grad=self.input_grad,
            record_grad_norms=self.record_grad_norms,
        )

    @classmethod
    def parameter_shapes(
        cls, arguments: Mapping[str, Any], shapes_of: Callable[[Any], Shapes]
    ) -> Shapes | None:
        return {f"cell.{name}": shape for name, shape in shapes_of(arguments.get("cell")).items()}

    @property
    def name(self) -> str:
        """``"Unroll(CellName)"``, how error messages name this module."""
        return f"Unroll({type(self.cell).__name__})"

    @property
    def hidden_size(self) -> int:
        """The cell's ``hidden_size``: the width of every output step."""
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
        state : initial state, ``h`` or a tuple such as ``(h, c)``, each ``(B, H)``; default zeros, or the carried
            state when ``stateful``.
        lengths : (B,) ints in ``1..T``, optional
            Valid steps of each sample of a padded batch. Past its length a sample's state stays
            unchanged and its outputs are zeros.

        Returns
        -------
        (B, T, H) if ``return_sequences`` else (B, H).
        """
        return self.run(self.check_inputs(x, state, lengths))

    def check_inputs(self, x: Any, state: Any = None, lengths: Any = None) -> UnrollInputs:
        """Validate the arguments of :meth:`forward` without changing anything.

        Returns
        -------
        UnrollInputs
            What :meth:`run` takes. Raises the errors ``forward`` raises for bad arguments.
        """
        cell = self.cell
        x = float_input(x, self.name, dtype=cell.dtype)
        check_rank(x, self.name, (3,))
        check_last_dim(x, self.name, cell.input_size)
        batch, steps, _ = x.shape
        if batch < 1 or steps < 1:
            raise ValueError(
                f"{self.name}: input needs at least one sample and step, got {x.shape}"
            )
        lengths_array = None if lengths is None else check_lengths(lengths, batch, steps, self.name)
        if state is None and self.stateful and self.state is not None:
            if _batch_of(self.state) != batch:
                raise ValueError(
                    f"{self.name}: stateful carried state has batch {_batch_of(self.state)}, got "
                    f"input batch {batch}; call reset_state() when the batch size changes"
                )
            state = self.state
        return UnrollInputs(x, lengths_array, cell.check_state(state, batch, self.name))

    def run(self, inputs: UnrollInputs) -> np.ndarray:
        """The forward pass on arguments checked by :meth:`check_inputs` (see :meth:`forward`).

        In training mode it keeps every step for the backward pass; in eval mode it runs
        :meth:`_run_eval`, which keeps nothing.
        """
        if not self.training:
            return self._run_eval(inputs)
        cell = self.cell
        x, lengths_array = inputs.x, inputs.lengths
        batch, steps, _ = x.shape

        order = processing_order(lengths_array, steps) if self.reverse else None
        flip = self.reverse and order is None
        x_time = to_time_major(x, order, flip)
        valid = _valid_steps(lengths_array, steps)

        hidden = cell.hidden_size
        states = tuple(
            np.empty((steps + 1, batch, hidden), cell.dtype) for _ in range(cell.state_size)
        )
        for buffer, value in zip(states, inputs.initial_state, strict=True):
            buffer[0] = value
        cache = cell.allocate_cache((steps, batch))
        projected = cell.project_input(x_time.reshape(steps * batch, -1))
        projected = projected.reshape(steps, batch, -1)

        first_padded = steps if valid is None else int(lengths_array.min())  # type: ignore[union-attr]
        for t in range(steps):
            state_prev = tuple(s[t] for s in states)
            state_next = tuple(s[t + 1] for s in states)
            run_step(
                cell, projected[t], state_prev, state_next, {k: v[t] for k, v in cache.items()}
            )
            if t >= first_padded:
                _freeze_finished(valid[t], state_prev, state_next)  # type: ignore[index]

        final = tuple(s[steps].copy() for s in states)
        self.state = cell.public_state(final)
        self._trace = Trace(x_time, states, cache, valid, order, flip)

        if not self.return_sequences:
            return final[0].copy()
        outputs = states[0][1:]
        if valid is not None:
            outputs = outputs * valid[..., None]
        # a read-only view of the state buffer the backward pass keeps anyway: no (B, T, H) copy,
        # and an in-place change by the caller, which would corrupt that pass, is refused
        sequence = to_batch_major(outputs, order, flip, contiguous=False)
        sequence.flags.writeable = False
        return sequence

    def _run_eval(self, inputs: UnrollInputs) -> np.ndarray:
        """The eval-mode forward: the same steps, keeping nothing for a backward.

        The input is projected a chunk of steps at a time (:func:`eval_chunk_steps`), straight
        from the batch-major input (no time-major copy of it), each state part lives in two slots
        used in turn, and padded samples are found step by step (no ``(T, B)`` mask), so that
        beyond its input the pass needs memory independent of ``T``. Only with
        ``return_sequences`` does the output state keep every step, since it is the output.
        """
        cell = self.cell
        x, lengths = inputs.x, inputs.lengths
        batch, steps, _ = x.shape
        first_padded = steps if lengths is None else int(lengths.min())

        hidden = cell.hidden_size
        buffers = [
            np.empty((steps + 1 if keeps_every_step else 2, batch, hidden), cell.dtype)
            for keeps_every_step in (
                self.return_sequences and part == 0 for part in range(cell.state_size)
            )
        ]
        for buffer, value in zip(buffers, inputs.initial_state, strict=True):
            buffer[0] = value
        cache = cell.allocate_cache((batch,))
        chunk = eval_chunk_steps(batch)
        for start in range(0, steps, chunk):
            stop = min(start + chunk, steps)
            rows = time_major_slice(x, lengths, self.reverse, start, stop)
            projected = cell.project_input(rows.reshape((stop - start) * batch, -1))
            projected = projected.reshape(stop - start, batch, -1)
            for t in range(start, stop):
                state_prev = tuple(b[t % len(b)] for b in buffers)
                state_next = tuple(b[(t + 1) % len(b)] for b in buffers)
                run_step(cell, projected[t - start], state_prev, state_next, cache)
                if lengths is not None and t >= first_padded:
                    # in processing order a sample's valid steps come first, reading either way
                    _freeze_finished(lengths > t, state_prev, state_next)

        final = tuple(b[steps % len(b)].copy() for b in buffers)
        self.state = cell.public_state(final)
        self._trace = None
        if not self.return_sequences:
            return final[0].copy()
        outputs = buffers[0][1:]
        valid = _valid_steps(lengths, steps)
        if valid is not None:
            outputs = outputs * valid[..., None]
        order = processing_order(lengths, steps) if self.reverse else None
        return to_batch_major(outputs, order, self.reverse and order is None, contiguous=False)

    # -- backward -----------------------------------------------------------------------------

    def backward(self, grad_output: Any, grad_state: Any = None) -> np.ndarray | None:
        """Back-propagate through time.

        Parameters
        ----------
        grad_output : (B, T, H) if ``return_sequences`` else (B, H)
        grad_state : gradient arriving at the final state (like :attr:`state`), optional.

        Returns
        -------
        grad_x : (B, T, input_size), or None when ``input_grad`` or ``needs_input_grad`` is
        False. Parameter gradients are accumulated into the cell's parameters;
        :attr:`grad_initial_state` (and :attr:`grad_norms` when recording) is set.
        """
        return self.run_backward(self.check_grads(grad_output, grad_state))

    def check_backward_ready(self) -> None:
        """Raise unless a training-mode forward is pending (see
        :meth:`Module.check_backward_ready`)."""
        if self._trace is None:
            raise RuntimeError(
                f"{self.name}: backward called before forward (or after a forward in eval mode, "
                "which keeps nothing, or twice for one forward)"
            )

    def check_grads(self, grad_output: Any, grad_state: Any = None) -> UnrollGrads:
        """Validate the arguments of :meth:`backward` without changing anything.

        Raises
        ------
        RuntimeError
            If there is no forward pass to go back through (none yet, an eval-mode one, or one
            already used by a backward).
        ValueError, TypeError
            For a gradient of the wrong shape, dtype or structure.
        """
        self.check_backward_ready()
        trace = self._trace
        assert trace is not None
        steps, batch = trace.x.shape[:2]
        hidden = self.cell.hidden_size
        expected = (batch, steps, hidden) if self.return_sequences else (batch, hidden)
        grad_out = grad_input(grad_output, self.name, expected, self.cell.dtype)
        grad_final = self.cell.check_state(grad_state, batch, f"{self.name}.backward")
        return UnrollGrads(grad_out, grad_final)

    def run_backward(self, grads: UnrollGrads, needs_input_grad: bool = True) -> np.ndarray | None:
        """The backward pass on arguments checked by :meth:`check_grads` (see :meth:`backward`).

        ``needs_input_grad`` is the caller's say on the input gradient, combined with
        ``input_grad`` and :attr:`~minitorch_rnn.Module.needs_input_grad`: False from any of them
        skips it and returns None.
        """
        trace = self._trace
        if trace is None:
            raise RuntimeError(f"{self.name}: run_backward called without a pending forward")
        grad_out, grad_final = grads.grad_output, grads.grad_final_state
        cell = self.cell
        steps, batch = trace.x.shape[:2]
        hidden = cell.hidden_size
        carried = list(grad_final)

        if self.return_sequences:
            grad_out_time = to_time_major(grad_out, trace.order, trace.flip, contiguous=False)
            if trace.valid is not None:
                grad_out_time = grad_out_time * trace.valid[..., None]
        else:
            carried[0] = carried[0] + grad_out
            grad_out_time = None

        grad_preact = np.zeros((steps, batch, cell.num_gates * hidden), cell.dtype)
        # squared norm of each sample's total d loss / d h at each processing step, if recorded
        norms_squared = np.zeros((steps, batch)) if self.record_grad_norms else None
        if self.bptt_truncate is None:
            grad_initial = tuple(carried)
            for t in reversed(range(steps)):  # full BPTT: one walk back over every step
                if grad_out_time is not None:
                    grad_initial = (grad_initial[0] + grad_out_time[t], *grad_initial[1:])
                if norms_squared is not None:
                    norms_squared[t] = squared_norms(grad_initial[0])
                grad_initial = self._step_back(trace, t, grad_initial, grad_preact[t])
        else:
            grad_initial = self._backward_truncated(
                trace, grad_out_time, tuple(carried), grad_preact, norms_squared
            )

        self._trace = None  # used up; a hook that failed in the loop above left it intact
        rows = steps * batch
        wants_input_grad = self.input_grad and self.needs_input_grad and needs_input_grad
        grad_x_rows = _accumulate_grads(
            cell,
            grad_preact.reshape(rows, -1),
            trace.x.reshape(rows, -1),
            tuple(s[:-1].reshape(rows, hidden) for s in trace.states),
            {k: v.reshape(rows, -1) for k, v in trace.cache.items()},
            wants_input_grad,
        )
        self.grad_initial_state = cell.public_state(grad_initial)
        if norms_squared is not None:
            self.grad_norms = norms_by_position(norms_squared, trace)
        if grad_x_rows is None:
            return None
        return to_batch_major(grad_x_rows.reshape(steps, batch, -1), trace.order, trace.flip)

    def _step_back(
        self, trace: Trace, t: int, grad_next: State, grad_preact_t: np.ndarray
    ) -> State:
        """One step back: fill ``grad_preact_t`` and return the gradient of the state before ``t``.

        A sample past its length did not move at step ``t``: its gradient passes straight through
        and its pre-activation gradient is zero.
        """
        states = trace.states
        returned = self.cell.step_backward(
            grad_next,
            tuple(s[t] for s in states),
            tuple(s[t + 1] for s in states),
            {k: v[t] for k, v in trace.cache.items()},
            grad_preact_t,
        )
        grad_prev = checked_state_grads(self.cell, returned, grad_next[0].shape)
        if trace.valid is not None and not trace.valid[t].all():
            frozen = ~trace.valid[t][:, None]
            grad_preact_t *= ~frozen
            grad_prev = tuple(
                np.where(frozen, g_next, g_prev)
                for g_prev, g_next in zip(grad_prev, grad_next, strict=True)
            )
        return grad_prev

    def _backward_truncated(
        self,
        trace: Trace,
        grad_out_time: np.ndarray | None,
        grad_final: State,
        grad_preact: np.ndarray,
        norms_squared: np.ndarray | None,
    ) -> State:
        """Per-output truncation: each output's gradient walks back at most ``k`` steps."""
        assert self.bptt_truncate is not None
        steps = grad_preact.shape[0]
        # the final state's gradient enters at each sample's own last valid step
        last_step = trace.valid.sum(axis=0) - 1 if trace.valid is not None else None
        grad_initial = tuple(np.zeros_like(g) for g in grad_final)
        scratch = np.empty_like(grad_preact[0])
        # d loss / d h summed over the outputs that reach each step (only when recording norms)
        grad_h_total = None if norms_squared is None else np.zeros(trace.states[0][1:].shape)
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
                if grad_h_total is not None:
                    grad_h_total[t] += carried[0]
                carried = self._step_back(trace, t, carried, scratch)
                grad_preact[t] += scratch
            if last == 0:
                grad_initial = tuple(a + b for a, b in zip(grad_initial, carried, strict=True))
        if norms_squared is not None and grad_h_total is not None:
            norms_squared[...] = np.einsum("tbh,tbh->tb", grad_h_total, grad_h_total)
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


def _accumulate_grads(
    cell: RecurrentCell,
    grad_preact: np.ndarray,
    x: np.ndarray,
    state_prev: State,
    cache: Cache,
    input_grad: bool,
) -> np.ndarray | None:
    """``cell.accumulate_grads``, asking it to skip the input gradient when none is needed (a cell
    whose ``accumulate_grads`` takes no ``input_grad`` keyword computes it anyway)."""
    if input_grad:
        return cell.accumulate_grads(grad_preact, x, state_prev, cache)
    if cell.takes_input_grad:
        cell.accumulate_grads(grad_preact, x, state_prev, cache, input_grad=False)
    else:
        cell.accumulate_grads(grad_preact, x, state_prev, cache)
    return None


def _valid_steps(lengths: np.ndarray | None, steps: int) -> np.ndarray | None:
    """Time-major ``(T, B)`` mask of the valid steps, or None when every step is valid."""
    if lengths is None or lengths.min() >= steps:
        return None
    return time_mask(lengths, steps).T


def _freeze_finished(valid_t: np.ndarray, state_prev: State, state_next: State) -> None:
    """A sample past its length keeps its state: copy ``state_prev`` over ``state_next`` there."""
    frozen = ~valid_t[:, None]
    for prev, nxt in zip(state_prev, state_next, strict=True):
        np.copyto(nxt, prev, where=frozen)


def _batch_of(state: Any) -> int:
    first = state[0] if isinstance(state, tuple) else state
    return int(np.shape(first)[0])
