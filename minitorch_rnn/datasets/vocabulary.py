"""Vocabulary: tokens to integer ids and back, with padding, start and end ids."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from ..validation import check_size

__all__ = ["Vocabulary"]


class Vocabulary:
    """A token ↔ id map whose first ids are the special tokens: pad = 0, start = 1, end = 2.

    A string is a sequence of one-character tokens, so ``Vocabulary("0123456789+")`` is a
    character vocabulary.

    Parameters
    ----------
    tokens : iterable of str
        The ordinary tokens; repeats are ignored (the first occurrence sets the id).
    specials : tuple of three str
        The names of the padding, start and end tokens, ids 0, 1 and 2. No ordinary token may
        equal one of them.

    Attributes
    ----------
    tokens : tuple of str
        Every token by id, the specials first.
    pad_id, start_id, end_id : int
        0, 1, 2.

    Examples
    --------
    >>> import minitorch_rnn as mt
    >>> vocab = mt.datasets.Vocabulary("0123456789+")
    >>> ids, lengths = vocab.encode(["12+7", "3"], end=True)
    >>> ids.tolist(), lengths.tolist()
    ([[4, 5, 13, 10, 2], [6, 2, 0, 0, 0]], [5, 2])
    >>> vocab.decode(ids)
    ['12+7', '3']
    """

    pad_id = 0
    start_id = 1
    end_id = 2

    def __init__(
        self, tokens: Iterable[str], specials: tuple[str, str, str] = ("<pad>", "<s>", "</s>")
    ) -> None:
        if (
            not isinstance(specials, tuple)
            or len(specials) != 3
            or not all(isinstance(s, str) for s in specials)
            or len(set(specials)) != 3
        ):
            raise ValueError(
                f"Vocabulary: specials must be three distinct strings (pad, start, end), got "
                f"{specials!r}"
            )
        ordered: dict[str, None] = {}
        for token in tokens:
            if not isinstance(token, str) or not token:
                raise TypeError(f"Vocabulary: tokens must be non-empty strings, got {token!r}")
            if token in specials:
                raise ValueError(f"Vocabulary: token {token!r} is one of the specials {specials}")
            ordered.setdefault(token, None)
        self.tokens: tuple[str, ...] = (*specials, *ordered)
        self._ids = {token: index for index, token in enumerate(self.tokens)}

    def __len__(self) -> int:
        return len(self.tokens)

    def __repr__(self) -> str:
        return f"Vocabulary({len(self)} tokens)"

    def encode(
        self,
        strings: Sequence[str],
        length: int | None = None,
        *,
        start: bool = False,
        end: bool = False,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Ids of every string, padded with ``pad_id`` to one length.

        Parameters
        ----------
        strings : sequence of str
            Each string's characters are its tokens.
        length : int, optional
            The padded length; default the longest encoding. A longer encoding is an error.
        start, end : bool
            Put ``start_id`` before / ``end_id`` after each string's ids (the decoder input
            ``tgt_in`` and the decoder target ``tgt_out`` of teacher forcing).

        Returns
        -------
        ids : (N, L) int64
        lengths : (N,) int64
            The length of each encoding, before padding.

        Raises
        ------
        ValueError
            For a token that is not in the vocabulary (the message names it and the string), or
            an encoding longer than ``length``.
        """
        if isinstance(strings, str):
            raise TypeError("Vocabulary.encode: strings must be a sequence of str, not one str")
        encoded = []
        for string in strings:
            if not isinstance(string, str):
                raise TypeError(f"Vocabulary.encode: strings must hold str, got {string!r}")
            try:
                ids = [self._ids[token] for token in string]
            except KeyError as error:
                raise ValueError(
                    f"Vocabulary.encode: unknown token {error.args[0]!r} in {string!r}"
                ) from None
            encoded.append([self.start_id] * start + ids + [self.end_id] * end)
        lengths = np.array([len(ids) for ids in encoded], dtype=np.int64)
        longest = int(lengths.max()) if len(encoded) else 0
        if length is None:
            length = longest
        length = check_size(length, "Vocabulary.encode", "length", minimum=0)
        if longest > length:
            raise ValueError(
                f"Vocabulary.encode: an encoding has {longest} ids, longer than length={length}"
            )
        out = np.full((len(encoded), length), self.pad_id, dtype=np.int64)
        for row, ids in zip(out, encoded, strict=True):
            row[: len(ids)] = ids
        return out, lengths

    def decode(self, ids: Any) -> Any:
        """Strings from ids: stops at ``end_id``, skips ``pad_id`` and ``start_id``.

        Parameters
        ----------
        ids : (N, L) or (L,) ints

        Returns
        -------
        list of str for 2-D ids, one str for 1-D ids.
        """
        array = np.asarray(ids)
        if array.dtype.kind not in "iu" or array.ndim not in (1, 2):
            raise ValueError(
                f"Vocabulary.decode: ids must be a 1-D or 2-D integer array, got dtype "
                f"{array.dtype} and shape {array.shape}"
            )
        if array.size and (array.min() < 0 or array.max() >= len(self)):
            raise ValueError(
                f"Vocabulary.decode: ids must lie in [0, {len(self) - 1}], got values in "
                f"[{array.min()}, {array.max()}]"
            )
        if array.ndim == 1:
            return self._decode_row(array)
        return [self._decode_row(row) for row in array]

    def _decode_row(self, row: np.ndarray) -> str:
        text = []
        for index in row.tolist():
            if index == self.end_id:
                break
            if index not in (self.pad_id, self.start_id):
                text.append(self.tokens[index])
        return "".join(text)
