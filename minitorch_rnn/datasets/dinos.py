"""The dinosaur-name corpus of the classic character-level language-model exercise: 1,536 names, one per line, shipped here.

Names are lower-cased; the vocabulary is the newline (id 0) followed by the letters in sorted order,
as in the exercise's ``char_to_ix``. A name becomes a training sequence that starts and ends
with the newline token: input ``"\\n" + name``, target ``name + "\\n"``.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from ..init import Seed, as_generator

__all__ = [
    "CharVocabulary",
    "bigram_cross_entropy",
    "encode_names",
    "load_dino_names",
    "split_names",
]

NEWLINE = "\n"


def load_dino_names(path: str | Path | None = None) -> list[str]:
    """The names in ``path`` (default: the shipped ``dinos.txt``), lower-cased, blanks dropped."""
    if path is None:
        text = resources.files(__package__).joinpath("dinos.txt").read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    names = [line.strip().lower() for line in text.splitlines()]
    names = [name for name in names if name]
    if not names:
        raise ValueError(f"no names found in {path or 'dinos.txt'}")
    return names


@dataclass(frozen=True)
class CharVocabulary:
    """A character vocabulary whose id 0 is the newline (start and end of every name)."""

    chars: tuple[str, ...]

    @classmethod
    def from_texts(cls, texts: list[str]) -> CharVocabulary:
        letters = sorted(set("".join(texts)) - {NEWLINE})
        return cls((NEWLINE, *letters))

    @property
    def size(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        index = {char: i for i, char in enumerate(self.chars)}
        try:
            return np.array([index[char] for char in text], dtype=np.int64)
        except KeyError as error:
            raise ValueError(f"character {error.args[0]!r} is not in the vocabulary") from None

    def decode(self, ids: np.ndarray | list[int]) -> str:
        return "".join(self.chars[int(i)] for i in ids)


def encode_names(
    names: list[str], vocabulary: CharVocabulary
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Padded next-character pairs for a list of names.

    Returns
    -------
    inputs : (N, T) int64
        ``"\\n" + name``, padded with 0 past each length.
    targets : (N, T) int64
        ``name + "\\n"``, padded with 0.
    lengths : (N,) int64
        ``len(name) + 1``, the number of valid steps.
    """
    lengths = np.array([len(name) + 1 for name in names], dtype=np.int64)
    inputs = np.zeros((len(names), int(lengths.max())), dtype=np.int64)
    targets = np.zeros_like(inputs)
    for row, name in enumerate(names):
        ids = vocabulary.encode(name)
        inputs[row, 1 : len(ids) + 1] = ids
        targets[row, : len(ids)] = ids
    return inputs, targets, lengths


def split_names(
    names: list[str], holdout: float = 0.1, seed: Seed = 0
) -> tuple[list[str], list[str]]:
    """Shuffle with ``seed`` and hold out a ``holdout`` share: ``(train, held_out)``."""
    if not 0.0 < holdout < 1.0:
        raise ValueError(f"holdout must be in (0, 1), got {holdout}")
    order = as_generator(seed).permutation(len(names))
    count = max(1, round(len(names) * holdout))
    return [names[i] for i in order[count:]], [names[i] for i in order[:count]]


def bigram_cross_entropy(
    train: list[str], held_out: list[str], vocabulary: CharVocabulary, smoothing: float = 1.0
) -> float:
    """Held-out cross-entropy (nats per character, newline included) of a count-based bigram model.

    ``P(next | previous) = (count + smoothing) / (total + smoothing * V)`` from ``train``; the
    same next-character pairs as the RNN is scored on.
    """
    counts = np.zeros((vocabulary.size, vocabulary.size))
    inputs, targets, lengths = encode_names(train, vocabulary)
    mask = np.arange(inputs.shape[1]) < lengths[:, None]
    np.add.at(counts, (inputs[mask], targets[mask]), 1.0)
    probabilities = (counts + smoothing) / (
        counts.sum(axis=1, keepdims=True) + smoothing * vocabulary.size
    )
    inputs, targets, lengths = encode_names(held_out, vocabulary)
    mask = np.arange(inputs.shape[1]) < lengths[:, None]
    return float(-np.log(probabilities[inputs[mask], targets[mask]]).mean())
