"""``minitorch-rnn sentiment``: many-to-one sentiment where word order matters.

Why order matters: "this movie is not good" is negative although "good" is positive. A generated
corpus (see :mod:`minitorch_rnn.datasets.sentiment`) holds some adjective–negation pairs out of
training. Two models built from the same layers are trained on it:

- recurrent: ``Embedding -> Unroll(cell, return_sequences=False) -> Dense(H, 1)``;
- bag of words: ``Embedding -> MeanPool -> Dense(D, 1)`` (word order invisible).

Both are scored on the held-out sentences, overall and on the negated ones.
"""

from __future__ import annotations

import argparse
import math
from typing import Any

import numpy as np

from ..datasets.sentiment import SentimentData, negation_sentiment_dataset
from ..layers.dense import Dense
from ..layers.embedding import Embedding
from ..layers.pooling import MeanPool
from ..losses import BCEWithLogitsLoss
from ..module import Module, Sequential
from ..optim import Adam
from ..recurrent.unroll import Unroll
from ..serialization import save
from ..training import Trainer
from .common import (
    add_common_arguments,
    check_outputs,
    finish,
    make_cell,
    positive_int,
    show_summary,
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "sentiment",
        help="negation-aware sentiment: recurrent model vs bag of words",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--embedding-dim", type=positive_int, default=4, help="default 4")
    parser.add_argument("--train-size", type=positive_int, default=4000, help="default 4000")
    parser.add_argument("--test-size", type=positive_int, default=1000, help="default 1000")
    add_common_arguments(parser, cell="gru", hidden=32, epochs=15, lr=0.01, batch_size=32)
    parser.set_defaults(func=run)


def recurrent_model(vocabulary_size: int, args: argparse.Namespace) -> Sequential:
    rng = np.random.default_rng(args.seed)
    return Sequential(
        Embedding(vocabulary_size, args.embedding_dim, seed=rng),
        Unroll(make_cell(args.cell, args.embedding_dim, args.hidden, rng), return_sequences=False),
        Dense(args.hidden, 1, seed=rng),
    )


def bag_of_words_model(vocabulary_size: int, args: argparse.Namespace) -> Sequential:
    rng = np.random.default_rng(args.seed)
    return Sequential(
        Embedding(vocabulary_size, args.embedding_dim, seed=rng),
        MeanPool(),
        Dense(args.embedding_dim, 1, seed=rng),
    )


def train_and_score(
    name: str, model: Module, train: SentimentData, test: SentimentData, args: argparse.Namespace
) -> tuple[dict[str, list[float]], float, float]:
    """Fit on ``train``; return the history and the held-out accuracy overall and on negations."""
    trainer = Trainer(
        model,
        BCEWithLogitsLoss(),
        Adam(model.parameters(), lr=args.lr),
        metrics=("accuracy",),
        clip_value=args.clip,
        clip_norm=args.clip_norm,
        seed=args.seed,
    )
    print(f"training the {name} model")
    history = trainer.fit(
        train.x,
        train.y,
        lengths=train.lengths,
        epochs=args.epochs,
        batch_size=args.batch_size,
        validation_data=(test.x, test.y, test.lengths),
        progress=not args.no_progress,
    )
    right = (trainer.predict(test.x, lengths=test.lengths) > 0) == (test.y > 0.5)
    negated = float(right[test.negated].mean()) if test.negated.any() else math.nan
    return dict(history), float(right.mean()), negated


def _percent(value: float) -> str:
    """A share as a percentage, or n/a when there was nothing to count."""
    return "n/a" if math.isnan(value) else f"{value:.2%}"


def run(args: argparse.Namespace) -> int:
    check_outputs(args)
    train, test, vocabulary = negation_sentiment_dataset(
        args.train_size, args.test_size, seed=args.seed
    )
    print(
        f"{len(train.texts)} training and {len(test.texts)} held-out sentences, {len(vocabulary)} words; "
        f"{test.negated.mean():.0%} of held-out sentences are negations never seen in training"
    )
    recurrent = recurrent_model(len(vocabulary), args)
    show_summary(args, recurrent, (1, train.x.shape[1]))
    history, rnn_all, rnn_negated = train_and_score(args.cell.upper(), recurrent, train, test, args)
    bow_history, bow_all, bow_negated = train_and_score(
        "bag-of-words", bag_of_words_model(len(vocabulary), args), train, test, args
    )
    print(f"{'model':14} {'held-out accuracy':>18} {'on negations':>13}")
    print(f"{args.cell.upper():14} {rnn_all:18.2%} {_percent(rnn_negated):>13}")
    print(f"{'bag of words':14} {bow_all:18.2%} {_percent(bow_negated):>13}")
    if args.save:
        save(
            args.save,
            recurrent,
            app="sentiment",
            vocabulary=list(vocabulary),
            cell=args.cell,
            hidden=args.hidden,
        )
        print(f"model saved to {args.save}")
    combined = {**history, **{f"bow_{key}": values for key, values in bow_history.items()}}
    finish(args, combined, f"negation sentiment ({args.cell.upper()} vs bag of words)")
    return 0
