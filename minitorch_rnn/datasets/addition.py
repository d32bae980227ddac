"""Addition written out: ``"123+45"`` -> ``"168"``, a sequence-to-sequence task whose answer needs
carries from right to left (the Keras addition example; Sutskever et al. 2014 for reversing the
source)."""

from __future__ import annotations

import numpy as np

from .. import init
from ..validation import check_size

__all__ = ["addition_pairs"]


def addition_pairs(n: int, digits: int = 3, seed: init.Seed = None) -> list[tuple[str, str]]:
    """``n`` distinct sums ``a + b`` of numbers with up to ``digits`` digits, as text.

    Parameters
    ----------
    n : int
        Number of pairs, at most ``10 ** (2 * digits)`` (every ``(a, b)`` once).
    digits : int
        ``0 <= a, b < 10 ** digits``, drawn uniformly without repetition of a pair.
    seed : int or numpy.random.Generator, optional
        The same seed gives the same pairs, in the same order.

    Returns
    -------
    list of (str, str)
        ``("a+b", "sum")`` without leading zeros or padding, e.g. ``("123+45", "168")``.

    Raises
    ------
    TypeError
        If ``n`` or ``digits`` is not an int.
    ValueError
        If ``n < 1``, ``digits < 1`` or ``n`` exceeds the number of distinct pairs.

    Examples
    --------
    >>> import minitorch_rnn as mt
    >>> pairs = mt.datasets.addition_pairs(3, digits=2, seed=0)
    >>> all(int(a) + int(b) == int(s) for (a, b), s in ((x.split("+"), s) for x, s in pairs))
    True
    """
    n = check_size(n, "addition_pairs", "n")
    digits = check_size(digits, "addition_pairs", "digits")
    base = 10**digits
    if n > base * base:
        raise ValueError(
            f"addition_pairs: n must be at most {base * base} (every pair of {digits}-digit "
            f"numbers once), got {n}"
        )
    codes = init.as_generator(seed).choice(base * base, size=n, replace=False)
    first, second = np.divmod(codes, base)
    return [(f"{a}+{b}", str(a + b)) for a, b in zip(first.tolist(), second.tolist(), strict=True)]
