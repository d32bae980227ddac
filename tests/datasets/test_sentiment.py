"""The generated negation-sentiment corpus: labels per template, held-out negations, encoding."""

from __future__ import annotations

import re

import numpy as np
import pytest

from minitorch_rnn.datasets import sentiment
from minitorch_rnn.datasets.sentiment import SentimentData, negation_sentiment_dataset

# The test's own polarity oracle, independent of the module's tuples.
POSITIVE = {"good", "great", "fine", "nice", "excellent", "wonderful", "brilliant", "lovely"}
NEGATIVE = {"bad", "awful", "terrible", "boring", "poor", "dull", "horrible", "weak"}

_ADJECTIVE = "(" + "|".join(sorted(POSITIVE | NEGATIVE)) + ")"
_SUBJECT_VERB = "(?:" + "|".join(sentiment.SUBJECTS) + ") (?:" + "|".join(sentiment.VERBS) + ")"
_INTENSIFIER = "(?:(?:" + "|".join(i for i in sentiment.INTENSIFIERS if i) + ") )?"
TEMPLATES = {
    "plain": re.compile(f"^{_SUBJECT_VERB} {_INTENSIFIER}{_ADJECTIVE}$"),
    "negated": re.compile(f"^{_SUBJECT_VERB} not {_INTENSIFIER}{_ADJECTIVE}$"),
    "trailing": re.compile(f"^not {_ADJECTIVE} at all$"),
    "contrast": re.compile(
        f"^{_SUBJECT_VERB} not {_INTENSIFIER}{_ADJECTIVE} , it is {_ADJECTIVE}$"
    ),
}


def parse(text: str) -> tuple[str, tuple[str, ...]]:
    """The template a sentence follows and its adjective(s)."""
    matches = []
    for name, template in TEMPLATES.items():
        match = template.match(text)
        if match:
            matches.append((name, match.groups()))
    assert len(matches) == 1, text
    return matches[0]


@pytest.fixture(scope="module")
def corpus() -> tuple[SentimentData, SentimentData, tuple[str, ...]]:
    return negation_sentiment_dataset(2000, 500, seed=0)


def negated_adjectives(data: SentimentData) -> set[str]:
    return {
        parse(text)[1][0] for text, negated in zip(data.texts, data.negated, strict=True) if negated
    }


def test_oracle_polarities_are_the_module_adjectives() -> None:
    assert set(sentiment.POSITIVE) == POSITIVE and set(sentiment.NEGATIVE) == NEGATIVE


def test_same_seed_gives_the_same_data_and_another_seed_other_data() -> None:
    first_train, first_test, first_vocabulary = negation_sentiment_dataset(200, 50, seed=7)
    second_train, second_test, second_vocabulary = negation_sentiment_dataset(200, 50, seed=7)
    assert first_train.texts == second_train.texts and first_test.texts == second_test.texts
    assert first_vocabulary == second_vocabulary
    np.testing.assert_array_equal(first_train.x, second_train.x)
    np.testing.assert_array_equal(first_test.y, second_test.y)
    other_train, _, _ = negation_sentiment_dataset(200, 50, seed=8)
    assert other_train.texts != first_train.texts


@pytest.mark.parametrize("split", [0, 1], ids=["train", "test"])
def test_every_sentence_is_labelled_by_its_template(
    corpus: tuple[SentimentData, SentimentData, tuple[str, ...]], split: int
) -> None:
    data = corpus[split]
    seen = set()
    for text, label, negated in zip(data.texts, data.y[:, 0], data.negated, strict=True):
        template, adjectives = parse(text)
        seen.add(template)
        positive = adjectives[0] in POSITIVE
        if template == "plain":
            expected = positive  # "this movie is very good" is positive
        elif template == "contrast":
            # "... not bad , it is great": the last clause decides, and it contradicts the first
            assert (adjectives[1] in POSITIVE) != positive, text
            expected = adjectives[1] in POSITIVE
        else:
            expected = not positive  # "not good" and "not good at all" are negative
        assert label == float(expected), text
        assert negated == (template != "plain"), text
    assert seen == set(TEMPLATES)


def test_not_before_an_adjective_flips_its_polarity(
    corpus: tuple[SentimentData, SentimentData, tuple[str, ...]],
) -> None:
    for data in corpus[:2]:
        for text, label in zip(data.texts, data.y[:, 0], strict=True):
            words = text.split()
            if "not" in words and "," not in words:
                adjective = next(
                    w for w in words[words.index("not") + 1 :] if w in POSITIVE | NEGATIVE
                )
                assert label == float(adjective in NEGATIVE), text


def test_test_negations_use_only_held_out_adjectives_never_negated_in_training(
    corpus: tuple[SentimentData, SentimentData, tuple[str, ...]],
) -> None:
    train, test, _ = corpus
    held_out = negated_adjectives(test)
    negated_in_training = negated_adjectives(train)
    assert held_out.isdisjoint(negated_in_training)
    assert held_out | negated_in_training == POSITIVE | NEGATIVE
    # a quarter of each polarity is held out
    assert len(held_out & POSITIVE) == 2 and len(held_out & NEGATIVE) == 2
    # ... and still seen un-negated in training, so the words themselves are known
    plain_training = {
        parse(text)[1][0]
        for text, negated in zip(train.texts, train.negated, strict=True)
        if not negated
    }
    assert held_out <= plain_training


def test_about_half_of_each_split_is_negated(
    corpus: tuple[SentimentData, SentimentData, tuple[str, ...]],
) -> None:
    train, test, _ = corpus
    assert 0.4 < train.negated.mean() < 0.6 and 0.4 < test.negated.mean() < 0.6
    assert 0.3 < train.y.mean() < 0.7


def test_arrays_have_the_documented_shapes_dtypes_and_padding(
    corpus: tuple[SentimentData, SentimentData, tuple[str, ...]],
) -> None:
    train, test, vocabulary = corpus
    assert vocabulary[0] == "<pad>" and list(vocabulary[1:]) == sorted(vocabulary[1:])
    for data, size in ((train, 2000), (test, 500)):
        assert len(data.texts) == size
        assert data.x.dtype == np.int64 and data.lengths.dtype == np.int64
        assert data.y.dtype == np.float32 and data.y.shape == (size, 1)
        assert data.negated.dtype == np.bool_ and data.negated.shape == (size,)
        assert data.x.shape == (size, data.lengths.max())
        np.testing.assert_array_equal(data.lengths, [len(t.split()) for t in data.texts])
        valid = np.arange(data.x.shape[1]) < data.lengths[:, None]
        assert (data.x[valid] > 0).all() and not data.x[~valid].any()
        for row in (0, size // 2, size - 1):
            words = [vocabulary[i] for i in data.x[row, : data.lengths[row]]]
            assert " ".join(words) == data.texts[row]
