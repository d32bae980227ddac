"""The shipped dinosaur names, their character vocabulary, padding, split and bigram baseline."""

from __future__ import annotations

import math
import string
from pathlib import Path

import numpy as np
import pytest

from minitorch_rnn.datasets.dinos import (
    CharVocabulary,
    bigram_cross_entropy,
    encode_names,
    load_dino_names,
    split_names,
)


@pytest.fixture(scope="module")
def names() -> list[str]:
    return load_dino_names()


@pytest.fixture(scope="module")
def vocabulary(names: list[str]) -> CharVocabulary:
    return CharVocabulary.from_texts(names)


def test_shipped_corpus_holds_1536_lower_case_names(names: list[str]) -> None:
    assert len(names) == 1536
    assert all(name and name == name.strip().lower() for name in names)
    assert set("".join(names)) == set(string.ascii_lowercase)


def test_vocabulary_is_the_newline_then_a_to_z(vocabulary: CharVocabulary) -> None:
    assert vocabulary.chars == ("\n", *string.ascii_lowercase)
    assert vocabulary.size == 27
    np.testing.assert_array_equal(vocabulary.encode("\nabz"), [0, 1, 2, 26])


def test_encode_and_decode_are_inverse(names: list[str], vocabulary: CharVocabulary) -> None:
    for name in names[:50]:
        ids = vocabulary.encode(name)
        assert ids.dtype == np.int64 and ids.shape == (len(name),)
        assert vocabulary.decode(ids) == name
    assert vocabulary.decode([0, 18, 0]) == "\nr\n"


def test_encoding_an_unknown_character_is_a_value_error(vocabulary: CharVocabulary) -> None:
    with pytest.raises(ValueError, match="'#' is not in the vocabulary"):
        vocabulary.encode("ab#")


def test_load_reads_a_custom_file_lower_cased_without_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "names.txt"
    path.write_text("Rex\n\n  Stego  \nALLO\n", encoding="utf-8")
    assert load_dino_names(path) == ["rex", "stego", "allo"]


def test_load_of_a_file_without_names_is_a_value_error(tmp_path: Path) -> None:
    path = tmp_path / "blank.txt"
    path.write_text("\n  \n", encoding="utf-8")
    with pytest.raises(ValueError, match="no names"):
        load_dino_names(path)


def test_encode_names_shifts_targets_by_one_and_pads_with_zero() -> None:
    vocabulary = CharVocabulary.from_texts(["abc", "b"])
    inputs, targets, lengths = encode_names(["abc", "b", "ca"], vocabulary)
    assert inputs.shape == targets.shape == (3, 4)
    assert inputs.dtype == targets.dtype == lengths.dtype == np.int64
    np.testing.assert_array_equal(lengths, [4, 2, 3])
    # input "\n" + name, target name + "\n", zeros past each length
    np.testing.assert_array_equal(inputs, [[0, 1, 2, 3], [0, 2, 0, 0], [0, 3, 1, 0]])
    np.testing.assert_array_equal(targets, [[1, 2, 3, 0], [2, 0, 0, 0], [3, 1, 0, 0]])


def test_encode_names_of_the_corpus_is_consistent(
    names: list[str], vocabulary: CharVocabulary
) -> None:
    inputs, targets, lengths = encode_names(names, vocabulary)
    longest = max(len(name) for name in names)
    assert inputs.shape == targets.shape == (1536, longest + 1)
    np.testing.assert_array_equal(lengths, [len(name) + 1 for name in names])
    assert not inputs[:, 0].any()
    np.testing.assert_array_equal(inputs[:, 1:], targets[:, :-1])
    valid = np.arange(longest + 1) < lengths[:, None]
    assert not inputs[~valid].any() and not targets[~valid].any()
    # the last valid target of every name is the newline, and nothing else is
    assert np.count_nonzero(targets[valid] == 0) == len(names)
    assert vocabulary.decode(targets[7, : lengths[7] - 1]) == names[7]


def test_split_sizes_are_a_holdout_share(names: list[str]) -> None:
    train, held_out = split_names(names, 0.1, seed=0)
    assert (len(train), len(held_out)) == (1382, 154)
    assert sorted(train + held_out) == sorted(names)
    assert len(split_names(names, 0.25)[1]) == 384


def test_split_is_deterministic_per_seed(names: list[str]) -> None:
    assert split_names(names, 0.1, seed=3) == split_names(names, 0.1, seed=3)
    assert split_names(names, 0.1, seed=3) != split_names(names, 0.1, seed=4)
    generator_split = split_names(names, 0.1, seed=np.random.default_rng(3))
    assert generator_split == split_names(names, 0.1, seed=3)


def test_split_holds_out_at_least_one_name() -> None:
    train, held_out = split_names(["rex", "allo", "stego"], 0.01)
    assert len(held_out) == 1 and len(train) == 2


@pytest.mark.parametrize("holdout", [0.0, 1.0, -0.2, 1.5])
def test_split_rejects_a_holdout_outside_zero_one(names: list[str], holdout: float) -> None:
    with pytest.raises(ValueError, match="holdout"):
        split_names(names, holdout)


def test_bigram_cross_entropy_of_the_corpus_beats_uniform_guessing(
    names: list[str], vocabulary: CharVocabulary
) -> None:
    train, held_out = split_names(names, 0.1, seed=0)
    nats = bigram_cross_entropy(train, held_out, vocabulary)
    assert math.isfinite(nats)
    assert 1.0 < nats < math.log(27)


def test_bigram_cross_entropy_matches_a_hand_count() -> None:
    vocabulary = CharVocabulary(("\n", "a", "b"))
    # training pairs: (\n,a) twice, (a,b), (b,\n), (a,\n); add-one smoothing over 3 characters
    # P(a|\n) = (2+1)/(2+3), P(b|a) = (1+1)/(2+3), P(\n|b) = (1+1)/(1+3)
    expected = -(math.log(3 / 5) + math.log(2 / 5) + math.log(2 / 4)) / 3
    assert bigram_cross_entropy(["ab", "a"], ["ab"], vocabulary) == pytest.approx(expected)
    # smoothing 0.5: P(a|\n) = 2.5/3.5, P(b|a) = 1.5/3.5, P(\n|b) = 1.5/2.5
    half = -(math.log(2.5 / 3.5) + math.log(1.5 / 3.5) + math.log(1.5 / 2.5)) / 3
    assert bigram_cross_entropy(["ab", "a"], ["ab"], vocabulary, smoothing=0.5) == pytest.approx(
        half
    )


def test_bigram_cross_entropy_of_an_unseen_pair_stays_finite() -> None:
    vocabulary = CharVocabulary(("\n", "a", "b"))
    # "b" never follows "\n" in training: add-one smoothing gives it 1 / (1 + 3)
    nats = bigram_cross_entropy(["a"], ["b"], vocabulary)
    expected = -(math.log(1 / 4) + math.log(1 / 3)) / 2  # P(b|\n), then P(\n|b) from an empty row
    assert nats == pytest.approx(expected)
