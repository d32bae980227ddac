"""``minitorch-rnn dinos``: a character model that invents dinosaur names.

The classic character-level RNN exercise: a vanilla RNN over the 1,536 shipped names, one name
per sequence ending in a newline, per-sequence cross-entropy (summed over time, averaged over
names), gradients clipped elementwise at 5, names sampled character by character until a newline.
Here the names are batched with their lengths (padding masked out), trained with Adam, and 10% are
held out to compare the model's cross-entropy per character with a count-based bigram baseline.
With ``--save``, the best held-out epoch so far is kept in the checkpoint, also on Ctrl-C.
"""

from __future__ import annotations

import argparse
import math
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from ..datasets.dinos import (
    CharVocabulary,
    bigram_cross_entropy,
    encode_names,
    load_dino_names,
    split_names,
)
from ..generate import sample
from ..losses import CrossEntropyLoss
from ..module import Module
from ..optim import Adam
from ..serialization import save
from ..training import Trainer
from ..training.callbacks import Callback, EarlyStopping
from ..validation import check_lengths, time_mask
from .char_model import build_char_model, char_meta
from .common import (
    BestCheckpoint,
    CLIError,
    add_common_arguments,
    check_outputs,
    finish,
    keeping_the_best_on_interrupt,
    non_negative_int,
    plural,
    positive_float,
    positive_int,
    show_summary,
)

MAX_NAME_LENGTH = 50  # as in the classic dinosaur-name exercise, a sample stops at 50 characters


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "dinos",
        help="train a character model on dinosaur names and generate new ones (the main job)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--data", metavar="FILE", help="names, one per line (default: the shipped dinos.txt)"
    )
    parser.add_argument(
        "--embedding-dim", type=positive_int, default=32, help="embedding size (default 32)"
    )
    parser.add_argument(
        "--holdout", type=float, default=0.1, help="share of names held out (default 0.1)"
    )
    parser.add_argument(
        "--samples",
        type=non_negative_int,
        default=3,
        help="names printed after each epoch (default 3); 0 prints no names, not even the final 10",
    )
    parser.add_argument(
        "--temperature", type=positive_float, default=1.0, help="sampling temperature"
    )
    parser.add_argument(
        "--patience",
        type=positive_int,
        default=5,
        help="epochs without held-out gain before stopping",
    )
    add_common_arguments(
        parser, cell="rnn", hidden=128, epochs=30, lr=0.005, batch_size=32, clip=5.0
    )
    parser.set_defaults(func=run)


def generate_names(
    model: Module,
    vocabulary: CharVocabulary,
    count: int,
    seed: int,
    temperature: float = 1.0,
    top_k: int | None = None,
) -> list[str]:
    """Sample ``count`` names, each started by the newline token and stopped by the next one."""
    rng = np.random.default_rng(seed)
    names = []
    for _ in range(count):
        ids = sample(
            model, [0], MAX_NAME_LENGTH, temperature=temperature, top_k=top_k, rng=rng, stop_id=0
        )
        names.append(vocabulary.decode(ids).capitalize())
    return names


class PrintSamples(Callback):
    """Print a few generated names at the end of every epoch (the ``dinos`` command's own
    callback, not library API)."""

    def __init__(
        self, vocabulary: CharVocabulary, count: int, seed: int, temperature: float
    ) -> None:
        super().__init__()
        self.vocabulary, self.count, self.seed, self.temperature = (
            vocabulary,
            count,
            seed,
            temperature,
        )

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        if self.count > 0:
            names = generate_names(
                self.trainer.model, self.vocabulary, self.count, self.seed + epoch, self.temperature
            )
            tqdm.write(f"  epoch {epoch + 1} samples: {', '.join(names)}")


def held_out_cross_entropy(
    model: Module, x: np.ndarray, y: np.ndarray, lengths: np.ndarray
) -> float:
    """Mean cross-entropy per character (nats) of ``model`` on padded sequences."""
    lengths = check_lengths(lengths, x.shape[0], x.shape[1], "held_out_cross_entropy")
    was_training = model.training
    model.eval()
    try:
        logits = model.forward(x, lengths=lengths)
    finally:
        model.train(was_training)
    mask = time_mask(lengths, x.shape[1])
    return CrossEntropyLoss(reduction="mean").forward(logits, y, mask=mask)


def run(args: argparse.Namespace) -> int:
    check_outputs(args)
    if not 0.0 < args.holdout < 0.5:
        raise CLIError(f"--holdout must be in (0, 0.5), got {args.holdout}")
    try:
        names = load_dino_names(args.data)
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise CLIError(f"cannot read names from {args.data!r}: {error}") from None
    if len(names) < 2:
        raise CLIError(f"need at least 2 names to train and hold out, got {len(names)}")
    vocabulary = CharVocabulary.from_texts(names)
    train_names, held_names = split_names(names, args.holdout, seed=args.seed)
    x, y, lengths = encode_names(train_names, vocabulary)
    x_held, y_held, lengths_held = encode_names(held_names, vocabulary)
    print(
        f"{len(names)} names, {vocabulary.size} characters; training on {len(train_names)}, "
        f"holding out {len(held_names)}; {args.cell.upper()} with {args.hidden} units"
    )

    model = build_char_model(
        vocabulary.size, args.embedding_dim, args.cell, args.hidden, seed=args.seed
    )
    show_summary(args, model, (1, x.shape[1]))
    checkpoint_meta = char_meta("dinos", "".join(vocabulary.chars))
    checkpoint = BestCheckpoint(args.save, checkpoint_meta) if args.save else None
    trainer = Trainer(
        model,
        CrossEntropyLoss(reduction="batch_mean"),
        Adam(model.parameters(), lr=args.lr),
        metrics=("bits_per_char",),
        clip_value=args.clip,
        clip_norm=args.clip_norm,
        callbacks=[
            PrintSamples(vocabulary, args.samples, args.seed, args.temperature),
            # 1,382 names are few for 128 units: keep the weights of the best held-out epoch
            EarlyStopping(monitor="val_loss", patience=args.patience, restore_best_weights=True),
            *([checkpoint] if checkpoint else []),
        ],
        seed=args.seed,
    )
    with keeping_the_best_on_interrupt(checkpoint):
        history = trainer.fit(
            x,
            y,
            lengths=lengths,
            epochs=args.epochs,
            batch_size=args.batch_size,
            validation_data=(x_held, y_held, lengths_held),
            progress=not args.no_progress,
        )

    best_epoch = int(np.argmin(history["val_loss"])) + 1
    print(
        f"{plural(len(history['loss']), 'epoch')}; weights of the best held-out epoch "
        f"({best_epoch}) kept"
    )
    rnn_nats = held_out_cross_entropy(model, x_held, y_held, lengths_held)
    bigram_nats = bigram_cross_entropy(train_names, held_names, vocabulary)
    print(
        f"held-out cross-entropy per character: {args.cell.upper()} {rnn_nats:.4f} nats "
        f"({rnn_nats / math.log(2):.3f} bits), bigram baseline {bigram_nats:.4f} nats "
        f"({bigram_nats / math.log(2):.3f} bits)"
    )
    cell = args.cell.upper()
    print(
        f"the {cell} beats the bigram"
        if rnn_nats < bigram_nats
        else f"the {cell} does NOT beat the bigram yet"
    )
    if args.samples:
        print("generated names:")
        for name in generate_names(model, vocabulary, 10, args.seed + 10_000, args.temperature):
            print(f"  {name}")
    if args.save:
        save(args.save, model, **checkpoint_meta, held_out_nats=rnn_nats, bigram_nats=bigram_nats)
        print(f"model saved to {args.save}")
    finish(args, history, f"dinosaur names ({args.cell.upper()}, {args.hidden} units)")
    return 0
