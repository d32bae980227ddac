"""``minitorch-rnn charlm``: a character-level language model (Karpathy's char-rnn).

The text is cut into ``--batch-size`` parallel streams read in consecutive chunks of ``--seq-len``
characters; the recurrent layers are stateful, so the state flows across chunks while gradients
stop at chunk boundaries (truncated backpropagation through time). The last ``--val-share`` of the
text is held out; validation loss and bits per character are reported every epoch, a sample is
printed every epoch, and the best model (lowest validation loss) is kept at ``--save``, also on
Ctrl-C. With ``--minutes``, training goes on until the time budget ends (no epoch cap unless
``--epochs`` is given; the epoch running then ends after the batch past the budget) while the
learning rate falls along a cosine over the budget; the run ends with the weights of the best
held-out epoch and reports its nats and bits per character on the held-out text. The defaults
(a GRU of 512 units, dropout, batches of 32 x 100, AdamW at 0.003 with weight decay 0.1 and the
cosine) are what learned most in 15 minutes on 2 CPU cores, by measurement
(docs/tutorials/charlm.md).
"""

from __future__ import annotations

import argparse
import math
import time
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from ..datasets.dinos import CharVocabulary
from ..generate import sample
from ..losses import CrossEntropyLoss
from ..module import Parameter
from ..optim import Adam, AdamW, CosineAnnealingLR
from ..training import StreamLoader, Trainer
from ..training.callbacks import (
    Callback,
    CosineAnnealingOverTime,
    EarlyStopping,
    LearningRateScheduler,
    TimeBudget,
)
from ..training.progress import UNTIL_STOPPED
from .char_model import build_char_model, char_meta
from .common import (
    BestCheckpoint,
    CLIError,
    add_common_arguments,
    check_outputs,
    finish,
    keeping_the_best_on_interrupt,
    non_negative_float,
    non_negative_int,
    plural,
    positive_float,
    positive_int,
    show_summary,
)

DEFAULT_EPOCHS = 20
# The defaults below (GRU 512, dropout, weight decay, batch 32, lr 0.003, cosine) are those that
# learned most in 15 minutes on 2 cores: docs/tutorials/charlm.md has the table of what was tried.
DEFAULT_DROPOUT = 0.3
DEFAULT_WEIGHT_DECAY = 0.1
SCHEDULES = ("cosine", "constant")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "charlm",
        help="character-level language model with stateful truncated BPTT",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--data", metavar="FILE", required=True, help="a UTF-8 text file")
    parser.add_argument("--layers", type=positive_int, default=1, help="stacked layers (default 1)")
    parser.add_argument(
        "--dropout",
        type=float,
        default=DEFAULT_DROPOUT,
        help=f"dropout between layers and before the head (default {DEFAULT_DROPOUT})",
    )
    parser.add_argument("--embedding-dim", type=positive_int, default=64, help="default 64")
    parser.add_argument(
        "--seq-len", type=positive_int, default=100, help="BPTT chunk length (default 100)"
    )
    parser.add_argument(
        "--val-share", type=float, default=0.1, help="held-out tail share (default 0.1)"
    )
    parser.add_argument(
        "--max-chars",
        type=positive_int,
        default=None,
        help="read only the first N characters of the file",
    )
    parser.add_argument(
        "--minutes",
        type=positive_float,
        default=None,
        help="train until this much time has passed (no epoch cap unless --epochs is given)",
    )
    parser.add_argument(
        "--schedule",
        choices=SCHEDULES,
        default="cosine",
        help="learning rate: 'cosine' falls from --lr to --min-lr along a half cosine over the "
        "--minutes (batch by batch) or else over the epochs; 'constant' keeps --lr (default "
        "cosine)",
    )
    parser.add_argument(
        "--min-lr", type=non_negative_float, default=0.0, help="the cosine's floor (default 0)"
    )
    parser.add_argument(
        "--weight-decay",
        type=non_negative_float,
        default=DEFAULT_WEIGHT_DECAY,
        help=f"decoupled weight decay of AdamW (default {DEFAULT_WEIGHT_DECAY}; 0 is plain Adam)",
    )
    parser.add_argument(
        "--sample-length", type=non_negative_int, default=200, help="characters per epoch sample"
    )
    add_common_arguments(
        parser,
        cell="gru",
        hidden=512,
        epochs=None,
        epochs_help=f"epochs (default {DEFAULT_EPOCHS}; with --minutes, no cap)",
        lr=0.003,
        batch_size=32,
        clip_norm=5.0,
    )
    parser.set_defaults(func=run)


class CharacterCount(Callback):
    """Count the characters trained on (the ``charlm`` command's own callback)."""

    def __init__(self, seq_len: int) -> None:
        super().__init__()
        self.seq_len, self.characters = seq_len, 0

    def on_batch_end(self, batch: int, logs: dict[str, Any]) -> None:
        self.characters += int(logs["size"]) * self.seq_len


class PrintSample(Callback):
    """Print a generated passage at the end of every epoch (the ``charlm`` command's own
    callback, not library API)."""

    def __init__(self, vocabulary: CharVocabulary, length: int, seed: int) -> None:
        super().__init__()
        self.vocabulary, self.length, self.seed = vocabulary, length, seed

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        if self.length > 0:
            ids = sample(self.trainer.model, [0], self.length, rng=self.seed + epoch)
            tqdm.write(
                f"--- sample after epoch {epoch + 1} ---\n{self.vocabulary.decode(ids)}\n---"
            )


def read_text(path: str, max_chars: int | None) -> str:
    """The text of ``path``; with ``max_chars``, only that many characters are read."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read(max_chars if max_chars else -1)
    except (OSError, UnicodeDecodeError) as error:
        raise CLIError(f"cannot read text from {path!r}: {error}") from None
    if len(text) < 100:
        raise CLIError(f"{path!r} holds {plural(len(text), 'character')}; need at least 100")
    return text


def epochs_to_run(args: argparse.Namespace) -> int:
    """``--epochs`` if given; else no cap under ``--minutes``, else the default count."""
    if args.epochs is not None:
        return int(args.epochs)
    return UNTIL_STOPPED if args.minutes else DEFAULT_EPOCHS


def schedule_callbacks(args: argparse.Namespace, optimizer: Adam) -> list[Callback]:
    """The time budget and the learning-rate schedule the options ask for.

    Under ``--minutes`` the budget is checked after every batch, so the run ends on time however
    long an epoch is, and the cosine follows the clock; otherwise it follows the epochs.
    """
    callbacks: list[Callback] = []
    if args.min_lr > args.lr:
        raise CLIError(f"--min-lr ({args.min_lr}) must not exceed --lr ({args.lr})")
    if args.minutes:
        seconds = 60.0 * args.minutes
        callbacks.append(TimeBudget(seconds, finish_epoch=False))
        if args.schedule == "cosine":
            callbacks.append(CosineAnnealingOverTime(seconds, eta_min=args.min_lr))
    elif args.schedule == "cosine":
        epochs = epochs_to_run(args)
        cosine = CosineAnnealingLR(optimizer, T_max=epochs, eta_min=args.min_lr)
        callbacks.append(LearningRateScheduler(cosine))
    return callbacks


def make_optimizer(args: argparse.Namespace, parameters: list[Parameter]) -> Adam:
    """AdamW (decay decoupled from the moments) at ``--weight-decay``; plain Adam if it is 0."""
    if args.weight_decay > 0:
        return AdamW(parameters, lr=args.lr, weight_decay=args.weight_decay)
    return Adam(parameters, lr=args.lr)


def describe_optimizer(optimizer: Adam) -> str:
    """The optimiser that was built and its learning rate, for the run's first line."""
    if isinstance(optimizer, AdamW):
        return f"AdamW, weight decay {optimizer.weight_decay:g}, lr {optimizer.lr:g}"
    return f"Adam, lr {optimizer.lr:g}"


def describe_schedule(args: argparse.Namespace) -> str:
    """The learning-rate schedule and budget in words, for the run's first line."""
    over = f"{args.minutes:g} minutes" if args.minutes else f"{epochs_to_run(args)} epochs"
    if args.schedule == "constant":
        return f"constant over {over}"
    return f"cosine to {args.min_lr:g} over {over}"


def run(args: argparse.Namespace) -> int:
    check_outputs(args)
    if not 0.0 <= args.dropout < 1.0:
        raise CLIError(f"--dropout must be in [0, 1), got {args.dropout}")
    if not 0.0 < args.val_share < 0.5:
        raise CLIError(f"--val-share must be in (0, 0.5), got {args.val_share}")
    text = read_text(args.data, args.max_chars)
    # the newline leads the vocabulary, so id 0 can start a sample as it starts a line
    vocabulary = CharVocabulary(("\n", *sorted(set(text) - {"\n"})))
    ids = vocabulary.encode(text)
    split = int(len(ids) * (1 - args.val_share))
    train_ids, val_ids = ids[:split], ids[split:]
    val_batch = max(1, min(args.batch_size, (len(val_ids) - 1) // args.seq_len))
    if (len(train_ids) - 1) // args.batch_size < args.seq_len or len(val_ids) <= args.seq_len:
        raise CLIError(
            f"text too short for --batch-size {args.batch_size} and --seq-len {args.seq_len}"
        )
    train_loader = StreamLoader(train_ids, args.batch_size, args.seq_len)
    val_loader = StreamLoader(val_ids, val_batch, args.seq_len)
    model = build_char_model(
        vocabulary.size,
        args.embedding_dim,
        args.cell,
        args.hidden,
        args.layers,
        args.dropout,
        stateful=True,
        seed=args.seed,
    )
    optimizer = make_optimizer(args, model.parameters())
    print(
        f"{len(text):,} characters, {vocabulary.size} distinct; {len(train_loader)} chunks of "
        f"{args.batch_size}x{args.seq_len} per epoch; {args.layers}-layer {args.cell.upper()} "
        f"with {args.hidden} units, dropout {args.dropout:g}; {describe_optimizer(optimizer)}, "
        f"{describe_schedule(args)}"
    )
    show_summary(args, model, (args.batch_size, args.seq_len))
    counter = CharacterCount(args.seq_len)
    callbacks: list[Callback] = [
        counter,
        PrintSample(vocabulary, args.sample_length, args.seed),
        # the model that ends the run is that of the best held-out epoch, however long it ran
        EarlyStopping(monitor="val_loss", patience=UNTIL_STOPPED, restore_best_weights=True),
    ]
    callbacks += schedule_callbacks(args, optimizer)
    checkpoint = None
    if args.save:
        checkpoint_meta = char_meta("charlm", "".join(vocabulary.chars))
        checkpoint = BestCheckpoint(args.save, checkpoint_meta)
        callbacks.append(checkpoint)
    trainer = Trainer(
        model,
        CrossEntropyLoss(),
        optimizer,
        metrics=("bits_per_char",),
        clip_value=args.clip,
        clip_norm=args.clip_norm,
        callbacks=callbacks,
        seed=args.seed,
    )
    start = time.perf_counter()
    with keeping_the_best_on_interrupt(checkpoint):
        history = trainer.fit(
            train_loader,
            epochs=epochs_to_run(args),
            validation_data=val_loader,
            progress=not args.no_progress,
        )
    minutes = (time.perf_counter() - start) / 60
    best = int(np.argmin(history["val_loss"]))
    nats = float(history["val_loss"][best])
    print(
        f"best validation loss {nats:.4f} nats/char ({nats / math.log(2):.4f} bits/char) on the "
        f"held-out {args.val_share:.0%} of the text ({len(val_ids):,} characters) at epoch "
        f"{best + 1} of {len(history['loss'])}, whose weights are kept; {minutes:.1f} min, "
        f"{counter.characters:,} characters trained on ({counter.characters / (60 * minutes):,.0f}"
        " per second, validation and samples included)"
    )
    if args.save:
        print(f"best model kept at {args.save}")
    finish(args, history, f"char LM ({args.layers}x{args.cell.upper()} {args.hidden})")
    return 0
