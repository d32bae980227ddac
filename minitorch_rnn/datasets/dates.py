"""Dates written in many human formats, to be translated into ISO ``YYYY-MM-DD`` (the
date-normalisation task of attention tutorials).

Every format is unambiguous on the range 1950-01-01..2049-12-31: a source string determines its
date. Numeric formats read month before day only with slashes (US style) and day before month only
with dots (European style), and two-digit years mean 1950..2049.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from .. import init
from ..validation import check_size

__all__ = ["DATE_FORMATS", "FIRST_DATE", "LAST_DATE", "date_pairs", "date_strings", "render_date"]

FIRST_DATE = dt.date(1950, 1, 1)
LAST_DATE = dt.date(2049, 12, 31)

_MONTHS = (
    "january february march april may june july august september october november december"
).split()
_DAYS = "monday tuesday wednesday thursday friday saturday sunday".split()


def _ordinal(day: int) -> str:
    suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def _parts(d: dt.date) -> dict[str, str]:
    month = _MONTHS[d.month - 1]
    weekday = _DAYS[d.weekday()]
    return {
        "d": str(d.day),
        "dd": f"{d.day:02d}",
        "m": str(d.month),
        "mm": f"{d.month:02d}",
        "yy": f"{d.year % 100:02d}",
        "yyyy": str(d.year),
        "month": month,
        "mon": month[:3],
        "weekday": weekday,
        "wkd": weekday[:3],
        "dth": _ordinal(d.day),
    }


#: The templates, filled from the parts above (``{mon}`` is the month's first three letters).
DATE_FORMATS: tuple[str, ...] = (
    "{d} {mon} {yyyy}",  # 27 sep 1994
    "{weekday}, {month} {d}, {yyyy}",  # tuesday, september 27, 1994
    "{yyyy}.{mm}.{dd}",  # 1994.09.27
    "{m}/{d}/{yy}",  # 9/27/94
    "{month} {d}, {yyyy}",  # september 27, 1994
    "{d} {month} {yyyy}",  # 27 september 1994
    "{mon} {d}, {yyyy}",  # sep 27, 1994
    "{mm}/{dd}/{yyyy}",  # 09/27/1994
    "{dd}.{mm}.{yyyy}",  # 27.09.1994
    "{d}-{mon}-{yy}",  # 27-sep-94
    "{yyyy}{mm}{dd}",  # 19940927
    "{wkd} {d} {mon} {yyyy}",  # tue 27 sep 1994
    "the {dth} of {month}, {yyyy}",  # the 27th of september, 1994
    "{weekday} {d} {month} {yyyy}",  # tuesday 27 september 1994
    "{month} {dth}, {yyyy}",  # september 27th, 1994
    "{yyyy}-{mm}-{dd}",  # 1994-09-27
    "{d} {mon} {yy}",  # 27 sep 94
    "{mon} {yyyy}, {d}",  # sep 1994, 27
)

_FORMATTERS: tuple[Callable[[dict[str, str]], str], ...] = tuple(
    template.format_map for template in DATE_FORMATS
)


def render_date(date: dt.date, format_index: int) -> str:
    """``date`` in format ``DATE_FORMATS[format_index]``."""
    return _FORMATTERS[format_index](_parts(date))


def date_strings(date: dt.date) -> tuple[str, ...]:
    """``date`` in every format of :data:`DATE_FORMATS`, in order."""
    parts = _parts(date)
    return tuple(formatter(parts) for formatter in _FORMATTERS)


def date_pairs(n: int, seed: init.Seed = None) -> list[tuple[str, str]]:
    """``n`` random dates, each in a random human format, with its ISO form.

    Parameters
    ----------
    n : int
        Number of pairs. Dates and formats are drawn uniformly and independently (with
        repetition), dates over 1950-01-01..2049-12-31.
    seed : int or numpy.random.Generator, optional

    Returns
    -------
    list of (str, str)
        ``("tuesday, september 27, 1994", "1994-09-27")``, ...; the formats are
        :data:`DATE_FORMATS` (18, textual and numeric), lower case.

    Examples
    --------
    >>> import minitorch_rnn as mt
    >>> mt.datasets.date_pairs(2, seed=0)
    [('24-jan-35', '2035-01-24'), ('september 12, 2013', '2013-09-12')]
    """
    n = check_size(n, "date_pairs", "n")
    rng = init.as_generator(seed)
    days = rng.integers(0, (LAST_DATE - FIRST_DATE).days + 1, size=n)
    formats = rng.integers(0, len(DATE_FORMATS), size=n)
    pairs = []
    for offset, format_index in zip(days.tolist(), formats.tolist(), strict=True):
        date = FIRST_DATE + dt.timedelta(days=offset)
        pairs.append((render_date(date, format_index), date.isoformat()))
    return pairs
