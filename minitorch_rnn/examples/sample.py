"""``minitorch-rnn sample CKPT``: generate text from a character model saved by ``dinos`` or ``charlm``."""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from ..datasets.dinos import CharVocabulary
from ..generate import sample
from ..serialization import load, read_meta
from .char_model import ARCHITECTURE_KEYS, build_char_model
from .common import CLIError, positive_float, positive_int


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
    parser.add_argument("--prime", default=None, help="text to start from (charlm checkpoints)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        meta = read_meta(args.checkpoint)
    except (FileNotFoundError, ValueError) as error:
        raise CLIError(str(error)) from None
    missing = [key for key in ARCHITECTURE_KEYS if key not in meta]
    if missing or meta.get("app") not in ("dinos", "charlm"):
        raise CLIError(
            f"{args.checkpoint} is not a dinos/charlm checkpoint (missing {missing or ['app']})"
        )
    try:
        vocabulary = CharVocabulary(tuple(meta["vocabulary"]))
        model = build_char_model(
            len(vocabulary.chars),
            meta["embedding_dim"],
            meta["cell"],
            meta["hidden"],
            meta["layers"],
            meta["dropout"],
        )
    except (TypeError, ValueError) as error:
        raise CLIError(f"{args.checkpoint} has malformed architecture metadata: {error}") from None
    try:
        load(args.checkpoint, model)
    except (KeyError, ValueError) as error:
        raise CLIError(f"checkpoint does not match its own architecture: {error}") from None
    rng = np.random.default_rng(args.seed)
    if meta["app"] == "dinos":
        length = args.length or 50
        for _ in range(args.n):
            ids = sample(model, [0], length, args.temperature, args.top_k, rng, stop_id=0)
            print(vocabulary.decode(ids).capitalize())
        return 0
    prime = args.prime if args.prime is not None else "\n"
    try:
        start = vocabulary.encode(prime or "\n")
    except ValueError as error:
        raise CLIError(f"--prime: {error}") from None
    for index in range(args.n):
        ids = sample(model, start, args.length or 300, args.temperature, args.top_k, rng)
        if index:
            print("-" * 40)
        print(prime + vocabulary.decode(ids))
    return 0
