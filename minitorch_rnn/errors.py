"""The error family for non-finite values: one ``except mt.NonFiniteError`` catches them all.

Every error the framework raises because a value is NaN or infinite is a subclass of
:class:`NonFiniteError`, itself a :class:`FloatingPointError`. The subclass says *what* was
non-finite:

=========================  ==============================================================
class                      raised when
=========================  ==============================================================
``NonFiniteInputError``    an input array holds NaN or inf (also a ``ValueError``)
``NonFiniteOutputError``   a model's output is NaN or inf
``NonFiniteLossError``     a loss value is NaN or inf
``NonFiniteGradientError`` a parameter's gradient is NaN or inf
``NonFiniteStepError``     an optimiser step would make a weight or its state NaN or inf
``NonFiniteValueError``    a value to store (loaded weights, optimiser state) is NaN or inf, or
                           overflows the dtype it would be stored in (also a ``ValueError``)
=========================  ==============================================================
"""

from __future__ import annotations

__all__ = [
    "NonFiniteError",
    "NonFiniteGradientError",
    "NonFiniteInputError",
    "NonFiniteLossError",
    "NonFiniteOutputError",
    "NonFiniteStepError",
    "NonFiniteValueError",
]


class NonFiniteError(FloatingPointError):
    """A NaN or infinite value where a finite one is required; nothing was changed by the call."""


class NonFiniteInputError(NonFiniteError, ValueError):
    """An input holds NaN or inf (also a ``ValueError``, as any other bad input)."""


class NonFiniteOutputError(NonFiniteError):
    """A model's output holds NaN or inf."""


class NonFiniteLossError(NonFiniteError):
    """A loss value is NaN or inf (no backward was run)."""


class NonFiniteGradientError(NonFiniteError):
    """A parameter's gradient holds NaN or inf (no optimiser step was taken)."""


class NonFiniteStepError(NonFiniteError):
    """An optimiser step would have made a weight or the optimiser's state NaN or infinite; it was
    not taken (weights, state and step count are those of the last good step)."""


class NonFiniteValueError(NonFiniteError, ValueError):
    """A value to be stored is NaN or inf, or overflows the dtype it would be stored in."""
