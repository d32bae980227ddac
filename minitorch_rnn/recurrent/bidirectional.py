"""Bidirectional: two Unrolls over the same input, one reading forwards and one backwards."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import numpy as np

from ..module import Config, Module, Shapes, described
from .unroll import Unroll

__all__ = ["Bidirectional"]


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
    state, grad_initial_state, grad_norms
        Pairs ``(forward, backward)`` of the two Unrolls' values (``grad_norms`` when they record
        them: see :class:`Unroll`).

    Shapes
    ------
    x ``(B, T, I)`` -> ``(B, T, 2H)`` (concat) or ``(B, T, H)`` (sum); without
    ``return_sequences``, ``(B, 2H)`` / ``(B, H)`` from each direction's final state.
    """

    accepts_lengths: ClassVar[bool] = True

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

    def config(self) -> Config:
        """``{"class": "Bidirectional", "forward_unroll", "backward_unroll", "merge"}``, the
        Unrolls as their configs."""
        return described(
            self,
            forward_unroll=self.forward_unroll.config(),
            backward_unroll=self.backward_unroll.config(),
            merge=self.merge,
        )

    @classmethod
    def parameter_shapes(
        cls, arguments: Mapping[str, Any], shapes_of: Callable[[Any], Shapes]
    ) -> Shapes | None:
        return {
            f"{role}.{name}": shape
            for role in ("forward_unroll", "backward_unroll")
            for name, shape in shapes_of(arguments.get(role)).items()
        }

    @property
    def state(self) -> tuple[Any, Any]:
        """``(forward_state, backward_state)`` of the last forward; settable (a pair, or None to
        clear both), which sets the two Unrolls' ``state``."""
        return self.forward_unroll.state, self.backward_unroll.state

    @state.setter
    def state(self, value: tuple[Any, Any] | None) -> None:
        forward_state, backward_state = (None, None) if value is None else value
        self.forward_unroll.state = forward_state
        self.backward_unroll.state = backward_state

    @property
    def grad_initial_state(self) -> tuple[Any, Any]:
        return self.forward_unroll.grad_initial_state, self.backward_unroll.grad_initial_state

    @property
    def grad_norms(self) -> tuple[np.ndarray | None, np.ndarray | None]:
        return self.forward_unroll.grad_norms, self.backward_unroll.grad_norms

    @property
    def record_grad_norms(self) -> bool:
        """Whether both directions record :attr:`Unroll.grad_norms` (setting it sets both)."""
        return self.forward_unroll.record_grad_norms and self.backward_unroll.record_grad_norms

    @record_grad_norms.setter
    def record_grad_norms(self, value: bool) -> None:
        self.forward_unroll.record_grad_norms = bool(value)
        self.backward_unroll.record_grad_norms = bool(value)

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
        # both directions are checked before either runs: a rejected call changes nothing
        forward_inputs = self.forward_unroll.check_inputs(x, state[0], lengths)
        backward_inputs = self.backward_unroll.check_inputs(x, state[1], lengths)
        forward_out = self.forward_unroll.run(forward_inputs)
        backward_out = self.backward_unroll.run(backward_inputs)
        self._output_shape = forward_out.shape[:-1] + (
            forward_out.shape[-1] + (backward_out.shape[-1] if self.merge == "concat" else 0),
        )
        if self.merge == "sum":
            return forward_out + backward_out
        return np.concatenate([forward_out, backward_out], axis=-1)

    def check_backward_ready(self) -> None:
        """Raise unless a forward of both directions is pending."""
        if self._output_shape is None:
            raise RuntimeError("Bidirectional: backward called before forward")
        self.forward_unroll.check_backward_ready()
        self.backward_unroll.check_backward_ready()

    def backward(self, grad_output: Any, grad_state: Any = None) -> np.ndarray | None:
        """Split the gradient between the directions and add their input gradients (None when
        no input gradient is needed, see :class:`Unroll`)."""
        self.check_backward_ready()
        assert self._output_shape is not None
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
        forward_grads = self.forward_unroll.check_grads(grad_forward, grad_state[0])
        backward_grads = self.backward_unroll.check_grads(grad_backward, grad_state[1])
        self._output_shape = None
        needed = self.needs_input_grad
        grad_x = self.forward_unroll.run_backward(forward_grads, needs_input_grad=needed)
        grad_x_reverse = self.backward_unroll.run_backward(backward_grads, needs_input_grad=needed)
        if grad_x is None or grad_x_reverse is None:
            return None  # half an input gradient would be wrong; either skip both or neither
        grad_x += grad_x_reverse
        return grad_x

    def extra_repr(self) -> str:
        return f"merge={self.merge!r}"
