"""addition_pairs, date_pairs and Vocabulary: the sequence-to-sequence data."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

import minitorch_rnn as mt
from minitorch_rnn.datasets.dates import FIRST_DATE, LAST_DATE, date_strings


def test_addition_pairs_are_distinct_correct_sums_in_range() -> None:
    pairs = mt.datasets.addition_pairs(5000, digits=3, seed=0)
    operands = [tuple(int(x) for x in source.split("+")) for source, _ in pairs]
    assert len(set(operands)) == 5000
    assert all(0 <= a < 1000 and 0 <= b < 1000 for a, b in operands)
    assert all(int(total) == a + b for (a, b), (_, total) in zip(operands, pairs, strict=True))
    assert all(s == str(int(s)) for source, total in pairs for s in (*source.split("+"), total))


def test_addition_pairs_are_reproducible_and_cover_every_pair_when_asked() -> None:
    assert mt.datasets.addition_pairs(50, seed=3) == mt.datasets.addition_pairs(50, seed=3)
    every = mt.datasets.addition_pairs(100, digits=1, seed=0)
    assert sorted(every) == sorted((f"{a}+{b}", str(a + b)) for a in range(10) for b in range(10))


def test_addition_pairs_refuse_more_pairs_than_exist() -> None:
    with pytest.raises(ValueError, match="addition_pairs: n must be at most 100"):
        mt.datasets.addition_pairs(101, digits=1)
    with pytest.raises(TypeError, match="addition_pairs: digits must be an int"):
        mt.datasets.addition_pairs(10, digits=2.0)  # type: ignore[arg-type]


def test_no_date_string_maps_to_two_dates_over_the_whole_range() -> None:
    # every date of 1950..2049 rendered in every format: a source string determines its date
    seen: dict[str, dt.date] = {}
    date, day = FIRST_DATE, dt.timedelta(days=1)
    while date <= LAST_DATE:
        for text in date_strings(date):
            assert seen.setdefault(text, date) == date, f"{text!r} means two dates"
        date += day
    assert len(seen) > 36_524 * (len(mt.datasets.DATE_FORMATS) - 1)  # formats rarely coincide


def test_there_are_at_least_15_formats_textual_and_numeric() -> None:
    renderings = date_strings(dt.date(1994, 9, 27))
    assert len(renderings) >= 15
    assert "27 sep 1994" in renderings and "tuesday, september 27, 1994" in renderings
    assert "1994.09.27" in renderings and "9/27/94" in renderings
    assert sum(text.replace(".", "").replace("/", "").isdigit() for text in renderings) >= 4


def test_date_pairs_targets_are_the_iso_dates_in_range() -> None:
    pairs = mt.datasets.date_pairs(2000, seed=0)
    targets = [dt.date.fromisoformat(iso) for _, iso in pairs]
    assert all(FIRST_DATE <= d <= LAST_DATE for d in targets)
    assert all(source in date_strings(d) for (source, _), d in zip(pairs, targets, strict=True))
    formats_used = {date_strings(d).index(s) for (s, _), d in zip(pairs, targets, strict=True)}
    assert len(formats_used) == len(mt.datasets.DATE_FORMATS)
    assert pairs == mt.datasets.date_pairs(2000, seed=0)


def test_vocabulary_puts_specials_first_and_round_trips() -> None:
    vocab = mt.datasets.Vocabulary("0123456789+")
    assert (vocab.pad_id, vocab.start_id, vocab.end_id) == (0, 1, 2)
    assert vocab.tokens[:3] == ("<pad>", "<s>", "</s>") and len(vocab) == 14
    ids, lengths = vocab.encode(["12+7", "", "3"], start=True, end=True)
    assert ids.dtype == np.int64 and ids.shape == (3, 6)
    assert lengths.tolist() == [6, 2, 3]
    assert ids[1].tolist() == [1, 2, 0, 0, 0, 0]
    assert vocab.decode(ids) == ["12+7", "", "3"]
    assert vocab.decode(ids[0]) == "12+7"


def test_vocabulary_decode_stops_at_end_and_skips_pad_and_start() -> None:
    vocab = mt.datasets.Vocabulary("ab")
    assert vocab.decode(np.array([1, 3, 0, 4, 2, 3, 3])) == "ab"


def test_vocabulary_pads_to_a_given_length_and_refuses_longer() -> None:
    vocab = mt.datasets.Vocabulary("ab")
    ids, _ = vocab.encode(["ab"], length=4)
    assert ids.tolist() == [[3, 4, 0, 0]]
    with pytest.raises(ValueError, match=r"Vocabulary\.encode: an encoding has 3 ids"):
        vocab.encode(["aba"], length=2)


def test_vocabulary_errors_name_the_problem() -> None:
    vocab = mt.datasets.Vocabulary("ab")
    with pytest.raises(ValueError, match=r"unknown token 'c' in 'abc'"):
        vocab.encode(["abc"])
    with pytest.raises(TypeError, match="not one str"):
        vocab.encode("ab")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"ids must lie in \[0, 4\]"):
        vocab.decode(np.array([5]))
    with pytest.raises(ValueError, match="is one of the specials"):
        mt.datasets.Vocabulary(["a", "<pad>"])
    with pytest.raises(ValueError, match="three distinct strings"):
        mt.datasets.Vocabulary("ab", specials=("x", "x", "y"))
