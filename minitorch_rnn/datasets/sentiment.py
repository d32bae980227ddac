"""A generated many-to-one sentiment task in which word order matters.

The classic argument for recurrent models: "this movie is not good" is negative although it
contains "good", which a bag of words misses. Sentences are built from templates:

- plain: ``this movie is very good`` — the adjective's polarity;
- negated: ``this movie is not very good`` — the opposite polarity;
- trailing negation: ``not bad at all`` / ``not good at all`` — the opposite polarity;
- contrast: ``this movie is not bad , it is great`` — the polarity of the last clause.

Some (adjective, negation) pairs never appear negated in training: the held-out test set holds
exactly those negated sentences, plus plain ones, so a model must have learnt what "not" does,
not memorised phrases. A bag of words cannot represent "not" flipping the polarity of whatever
adjective follows (the labels of plain and negated sentences form an XOR), so it is wrong on a
fixed share of the negated sentences by construction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..init import Seed, as_generator

__all__ = ["SentimentData", "negation_sentiment_dataset"]

SUBJECTS = (
    "this movie",
    "the film",
    "the plot",
    "the acting",
    "this book",
    "the ending",
    "the music",
)
VERBS = ("is", "was", "seems", "looks")
INTENSIFIERS = ("", "very", "really", "quite", "so", "truly")
POSITIVE = ("good", "great", "fine", "nice", "excellent", "wonderful", "brilliant", "lovely")
NEGATIVE = ("bad", "awful", "terrible", "boring", "poor", "dull", "horrible", "weak")
PAD = "<pad>"


@dataclass(frozen=True)
class SentimentData:
    """Token-id arrays and texts of a generated split.

    ``x`` ``(N, T)`` int64 ids padded with 0; ``lengths`` ``(N,)``; ``y`` ``(N, 1)`` float32 labels
    (1 = positive); ``negated`` ``(N,)`` bool marks sentences whose label is flipped by "not".
    """

    texts: tuple[str, ...]
    x: np.ndarray
    lengths: np.ndarray
    y: np.ndarray
    negated: np.ndarray


def _sentence(
    rng: np.random.Generator, adjective: str, negate: bool, style: str
) -> tuple[str, bool]:
    """One sentence about ``adjective`` and whether it is positive."""
    positive = adjective in POSITIVE
    subject, verb = rng.choice(SUBJECTS), rng.choice(VERBS)
    intensifier = rng.choice(INTENSIFIERS)
    adjective_phrase = f"{intensifier} {adjective}".strip()
    if style == "trailing":
        return f"not {adjective} at all", not positive
    if style == "contrast":
        opposite = rng.choice(NEGATIVE if positive else POSITIVE)
        # "X is not <adjective> , it is <opposite>": the last clause decides
        return f"{subject} {verb} not {adjective_phrase} , it is {opposite}", not positive
    if negate:
        return f"{subject} {verb} not {adjective_phrase}", not positive
    return f"{subject} {verb} {adjective_phrase}", positive


def negation_sentiment_dataset(
    train_size: int = 4000, test_size: int = 1000, held_out_share: float = 0.25, seed: Seed = 0
) -> tuple[SentimentData, SentimentData, tuple[str, ...]]:
    """Generate train and held-out test splits and the vocabulary (id 0 is padding).

    Parameters
    ----------
    train_size, test_size : int
        Numbers of sentences.
    held_out_share : float
        Share of the adjectives (of each polarity) that appear only un-negated in training; every
        negated sentence of the test set uses one of them.
    seed : int or Generator
        Random state; the same seed gives the same data.
    """
    rng = as_generator(seed)
    held_out = set()
    for group in (POSITIVE, NEGATIVE):
        count = max(1, round(len(group) * held_out_share))
        held_out.update(rng.choice(group, size=count, replace=False).tolist())
    adjectives = POSITIVE + NEGATIVE
    seen_negated = tuple(a for a in adjectives if a not in held_out)
    unseen_negated = tuple(a for a in adjectives if a in held_out)

    def generate(size: int, test: bool) -> list[tuple[str, bool, bool]]:
        """Half negated: in training only with seen pairs, in the test only with held-out ones."""
        rows = []
        for _ in range(size):
            negate = bool(rng.random() < 0.5)
            if negate:
                adjective = str(rng.choice(unseen_negated if test else seen_negated))
                style = str(rng.choice(["negated", "negated", "trailing", "contrast"]))
            else:
                adjective, style = str(rng.choice(adjectives)), "plain"
            text, positive = _sentence(rng, adjective, negate, style)
            rows.append((text, positive, negate))
        return rows

    train_rows, test_rows = generate(train_size, False), generate(test_size, True)
    words = sorted({w for text, _, _ in train_rows + test_rows for w in text.split()})
    vocabulary = (PAD, *words)
    return _encode(train_rows, vocabulary), _encode(test_rows, vocabulary), vocabulary


def _encode(rows: list[tuple[str, bool, bool]], vocabulary: tuple[str, ...]) -> SentimentData:
    index = {word: i for i, word in enumerate(vocabulary)}
    tokenised = [[index[w] for w in text.split()] for text, _, _ in rows]
    lengths = np.array([len(ids) for ids in tokenised], dtype=np.int64)
    x = np.zeros((len(rows), int(lengths.max())), dtype=np.int64)
    for row, ids in enumerate(tokenised):
        x[row, : len(ids)] = ids
    y = np.array([[positive] for _, positive, _ in rows], dtype=np.float32)
    negated = np.array([negate for _, _, negate in rows], dtype=bool)
    return SentimentData(tuple(text for text, _, _ in rows), x, lengths, y, negated)
