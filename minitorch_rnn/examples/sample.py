"""``minitorch-rnn sample CKPT``: generate text from a character model saved by ``dinos`` or ``charlm``.

With ``--prime``, dinos names start with the given letters and charlm text continues the given
text.
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from ..datasets.dinos import CharVocabulary
from ..generate import sample
from .char_model import load_char_model
from .common import CLIError, non_negative_int, positive_float, positive_int


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "sample",
        help="generate from a saved character model (dinos or charlm checkpoint)",
        description=__doc__,
    )
    parser.add_argument("checkpoint", metavar="CKPT", help="checkpoint written with --save")
    parser.add_argument("--n", type=positive_int, default=10, help="how many samples (default 10)")
    parser.add_argument("--temperature", type=positive_float, default=1.0, help="default 1.0")
    parser.add_argument(
        "--top-k", type=positive_int, default=None, help="sample among the k most likely"
    )
    parser.add_argument(
        "--length", type=positive_int, default=None, help="maximum characters per sample"
    )
    parser.add_argument(
        "--prime",
        default=None,
        help="text to start from: the first letters of every dinos name, or the text charlm "
        "continues",
    )
    parser.add_argument("--seed", type=non_negative_int, default=0, help="random seed (default 0)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # The meta fields are checked, and every size of the stored config against the weights'
    # headers, before a model of those sizes is built: the file may come from anyone.
    try:
        app, characters, model = load_char_model(args.checkpoint)
    except FileNotFoundError as error:
        raise CLIError(str(error)) from None
    except (TypeError, ValueError) as error:
        raise CLIError(f"{args.checkpoint} cannot be sampled: {error}") from None
    vocabulary = CharVocabulary(tuple(characters))
    rng = np.random.default_rng(args.seed)
    if app == "dinos":
        # names are stored lower-case and printed capitalised; a prime is read the same way
        prime = (args.prime or "").lower()
        start = _encode_prime(vocabulary, "\n" + prime)
        for _ in range(args.n):
            ids = sample(
                model, start, args.length or 50, args.temperature, args.top_k, rng, stop_id=0
            )
            print((prime + vocabulary.decode(ids)).capitalize())
        return 0
    prime = args.prime or "\n"
    start = _encode_prime(vocabulary, prime)
    for index in range(args.n):
        ids = sample(model, start, args.length or 300, args.temperature, args.top_k, rng)
        if index:
            print("-" * 40)
        print(prime + vocabulary.decode(ids))
    return 0


def _encode_prime(vocabulary: CharVocabulary, text: str) -> np.ndarray:
    try:
        return vocabulary.encode(text)
    except ValueError as error:
        raise CLIError(f"--prime: {error} of this checkpoint") from None
