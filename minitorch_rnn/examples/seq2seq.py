"""``minitorch-rnn seq2seq``: an encoder–decoder with attention learns dates and addition.

Two tasks whose output has another length than the input:

- ``dates``: a date written in one of 18 human formats ("tuesday, september 27, 1994",
  "9/27/94", ...) to its ISO form "1994-09-27";
- ``addition``: a sum of two numbers of up to three digits ("123+45") to its value ("168"),
  50,000 distinct pairs of which 10 % are held out. The model reads both numbers right-aligned
  ("123+ 45"), so that digits of the same weight sit at the same place, as in column addition.

A Seq2Seq model (encoder and decoder of --cell, attention scored by --attention, or none) is
trained with teacher forcing for --minutes or --epochs; after every epoch it decodes the held-out
sources on its own (greedy) and prints the exact-match accuracy, the fraction of outputs right in
every character. At the end it decodes with beam search (--beam) too and shows a few held-out
examples; --plot draws the attention weights of one of them.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..datasets.addition import addition_pairs
from ..datasets.dates import date_pairs
from ..datasets.vocabulary import Vocabulary
from ..losses import CrossEntropyLoss
from ..optim import Adam, ExponentialLR
from ..recurrent.registry import cell_names
from ..seq2seq.attention import SCORES
from ..seq2seq.model import Seq2Seq
from ..serialization import save
from ..summary import summary
from ..training import Trainer
from ..training.callbacks import Callback, LearningRateScheduler, TimeBudget
from .common import (
    CLIError,
    add_summary_argument,
    cell_option,
    check_outputs,
    non_negative_int,
    plural,
    positive_float,
    positive_int,
    pyplot,
)

TASKS = ("dates", "addition")
ATTENTIONS = (*SCORES, "none")


@dataclass(frozen=True)
class TaskDefaults:
    """The settings found for a task (docs/tutorials/seq2seq.md has the table they come from)."""

    attention: str  # the score, or "none"
    reverse_source: bool
    pairs: int  # distinct pairs drawn (training + held out)
    test_size: int
    hidden: int
    embedding: int
    lr: float
    lr_decay: float  # the learning rate is multiplied by it after every epoch
    batch_size: int
    minutes: float
    target: float  # stop once the held-out exact match reaches it


TASK_DEFAULTS = {
    "dates": TaskDefaults(
        attention="dot", reverse_source=False, pairs=40_000, test_size=5_000, hidden=64,
        embedding=32, lr=0.01, lr_decay=0.7, batch_size=64, minutes=5.0, target=0.999,
    ),
    "addition": TaskDefaults(
        attention="dot", reverse_source=True, pairs=50_000, test_size=5_000, hidden=128,
        embedding=32, lr=0.01, lr_decay=0.95, batch_size=32, minutes=10.0, target=0.99,
    ),
}  # fmt: skip


@dataclass
class TaskData:
    """Encoded pairs of one task: training and held-out parts, and both vocabularies."""

    source_vocab: Vocabulary
    target_vocab: Vocabulary
    train: tuple[tuple[np.ndarray, np.ndarray, np.ndarray], np.ndarray]
    test: tuple[tuple[np.ndarray, np.ndarray, np.ndarray], np.ndarray]
    test_pairs: list[tuple[str, str]]


def draw_pairs(task: str, count: int, test_size: int, seed: int) -> tuple[list, list]:
    """``count`` pairs: ``count - test_size`` for training and ``test_size`` held out, none of
    whose sources is ever seen in training (dates can repeat, so the held-out part is drawn from
    extra pairs with the repeats left out)."""
    if task == "addition":
        pairs = addition_pairs(count, digits=3, seed=seed)  # distinct already
    else:
        pairs = date_pairs(count + test_size, seed=seed)
    train = pairs[: count - test_size]
    seen = {source for source, _ in train}
    test: dict[str, str] = {}
    for source, target in pairs[count - test_size :]:
        if source not in seen and len(test) < test_size:
            test.setdefault(source, target)
    return train, list(test.items())


def align_operands(source: str, width: int = 3) -> str:
    """``"123+45"`` -> ``"123+ 45"``: both numbers right-aligned to ``width`` characters, so that
    digits of the same weight always sit at the same distance from the ``+`` (as in written
    column addition)."""
    first, second = source.split("+")
    return f"{first:>{width}}+{second:>{width}}"


def encode_task(task: str, count: int, test_size: int, seed: int, reverse_source: bool) -> TaskData:
    """Draw, split and encode a task's pairs (``reverse_source``: each source read backwards)."""
    train_pairs, test_pairs = draw_pairs(task, count, test_size, seed)
    everything = train_pairs + test_pairs

    def model_source(source: str) -> str:
        """The source as the model reads it: addition aligned, reversed on request."""
        aligned = align_operands(source) if task == "addition" else source
        return aligned[::-1] if reverse_source else aligned

    source_vocab = Vocabulary(sorted({c for s, _ in everything for c in model_source(s)}))
    target_vocab = Vocabulary(sorted({c for _, target in everything for c in target}))
    source_length = max(len(model_source(source)) for source, _ in everything)
    target_length = max(len(target) for _, target in everything) + 1

    def encode(pairs: list[tuple[str, str]]) -> Any:
        sources = [model_source(s) for s, _ in pairs]
        src, src_lengths = source_vocab.encode(sources, source_length)
        targets = [t for _, t in pairs]
        tgt_in, _ = target_vocab.encode(targets, target_length, start=True)
        tgt_out, _ = target_vocab.encode(targets, target_length, end=True)
        return (src, tgt_in, src_lengths), tgt_out

    return TaskData(source_vocab, target_vocab, encode(train_pairs), encode(test_pairs), test_pairs)


def decode_all(model: Seq2Seq, data: TaskData, beam_size: int, batch_size: int = 500) -> list[str]:
    """The model's own output for every held-out source, decoded to text."""
    (src, tgt_in, src_lengths), _ = data.test
    outputs: list[str] = []
    for begin in range(0, len(src), batch_size):
        part = slice(begin, begin + batch_size)
        ids = model.generate(
            src[part],
            tgt_in.shape[1],
            data.target_vocab.start_id,
            data.target_vocab.end_id,
            beam_size=beam_size,
            src_lengths=src_lengths[part],
        )
        outputs.extend(data.target_vocab.decode(ids))
    return outputs


def exact_match(predictions: list[str], pairs: list[tuple[str, str]]) -> float:
    """The fraction of predictions equal to their target in every character."""
    right = sum(p == t for p, (_, t) in zip(predictions, pairs, strict=True))
    return right / len(pairs)


class HeldOutExactMatch(Callback):
    """After every epoch: greedy-decode the held-out sources, print and log the exact match
    (``logs["val_exact_match"]``); stop once it reaches ``target``."""

    def __init__(self, model: Seq2Seq, data: TaskData, target: float) -> None:
        super().__init__()
        self.model = model
        self.data = data
        self.target = target
        self.start = 0.0

    def on_train_begin(self, logs: dict[str, Any]) -> None:
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        accuracy = exact_match(decode_all(self.model, self.data, 1), self.data.test_pairs)
        logs["val_exact_match"] = accuracy
        elapsed = time.perf_counter() - self.start
        print(
            f"epoch {epoch + 1}: loss {logs['loss']:.4f}, held-out exact match "
            f"{100 * accuracy:.2f} % ({elapsed:.0f} s)",
            flush=True,
        )
        if accuracy >= self.target:
            self.trainer.stop_training = True


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "seq2seq",
        help="encoder-decoder with attention: dates to ISO, addition",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--task", choices=TASKS, default="dates", help="the task (default dates)")
    parser.add_argument(
        "--attention", choices=ATTENTIONS, help="attention score, or none (default: per task)"
    )
    parser.add_argument(
        "--cell",
        type=cell_option,
        default="lstm",
        metavar="CELL",
        help=f"a registered recurrent cell: {', '.join(cell_names())} (default lstm)",
    )
    parser.add_argument("--hidden", type=positive_int, help="hidden units (default: per task)")
    parser.add_argument("--embedding", type=positive_int, help="embedding size (default: per task)")
    parser.add_argument(
        "--layers", type=positive_int, default=1, help="recurrent layers (default 1)"
    )
    parser.add_argument(
        "--reverse-source",
        action=argparse.BooleanOptionalAction,
        help="feed each source backwards, or not (default: per task)",
    )
    parser.add_argument(
        "--beam", type=positive_int, default=5, help="beam size of the final decoding (default 5)"
    )
    parser.add_argument(
        "--minutes", type=positive_float, help="training time budget (default: per task)"
    )
    parser.add_argument(
        "--epochs", type=positive_int, default=10**6, help="at most this many epochs"
    )
    parser.add_argument(
        "--target",
        type=positive_float,
        help="stop once the held-out exact match reaches this fraction; 1 runs the whole "
        "budget (default: per task)",
    )
    parser.add_argument("--lr", type=positive_float, help="Adam learning rate (default: per task)")
    parser.add_argument(
        "--lr-decay",
        type=positive_float,
        help="factor of the learning rate after every epoch (default: per task)",
    )
    parser.add_argument("--batch-size", type=positive_int, help="batch size (default: per task)")
    parser.add_argument(
        "--pairs", type=positive_int, help="pairs drawn, held-out ones included (default: per task)"
    )
    parser.add_argument("--test-size", type=positive_int, help="held-out pairs (default: per task)")
    parser.add_argument(
        "--examples", type=non_negative_int, default=8, help="held-out examples shown (default 8)"
    )
    parser.add_argument("--seed", type=non_negative_int, default=0, help="random seed (default 0)")
    parser.add_argument("--save", metavar="CKPT", help="write the trained model to this .npz")
    parser.add_argument(
        "--plot",
        metavar="FILE.png",
        help="draw the attention weights of a held-out example (needs matplotlib)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    add_summary_argument(parser)
    parser.set_defaults(func=run)


def settings(args: argparse.Namespace) -> dict[str, Any]:
    """The task's defaults with the options given on the command line on top (``args`` is
    completed with them)."""
    defaults = TASK_DEFAULTS[args.task]
    chosen = {
        name: getattr(defaults, name) if getattr(args, name) is None else getattr(args, name)
        for name in TaskDefaults.__dataclass_fields__
    }
    if chosen["test_size"] >= chosen["pairs"]:
        raise CLIError(
            f"--test-size ({chosen['test_size']}) must be smaller than --pairs ({chosen['pairs']})"
        )
    if args.task == "addition" and chosen["pairs"] > 10**6:
        raise CLIError(f"--pairs: there are only 1000000 distinct sums, got {chosen['pairs']}")
    if args.plot and chosen["attention"] == "none":
        raise CLIError("--plot draws attention weights: it needs --attention other than none")
    args.attention, args.reverse_source = chosen["attention"], chosen["reverse_source"]
    if chosen["target"] > 1:
        raise CLIError(f"--target is a fraction in (0, 1], got {chosen['target']}")
    if chosen["lr_decay"] > 1:
        raise CLIError(f"--lr-decay must be at most 1, got {chosen['lr_decay']}")
    return chosen


def run(args: argparse.Namespace) -> int:
    check_outputs(args)
    options = settings(args)
    data = encode_task(
        args.task, options["pairs"], options["test_size"], args.seed, args.reverse_source
    )
    attention = None if args.attention == "none" else args.attention
    model = Seq2Seq(
        len(data.source_vocab),
        len(data.target_vocab),
        options["embedding"],
        options["hidden"],
        cell=args.cell,
        num_layers=args.layers,
        attention=attention,
        seed=args.seed,
    )
    print(
        f"{args.task}: {len(data.train[1])} training pairs, {len(data.test_pairs)} held out; "
        f"{args.cell.upper()} encoder-decoder, {options['hidden']} units, attention "
        f"{args.attention}{', reversed source' if args.reverse_source else ''}; Adam lr "
        f"{options['lr']:g} (x{options['lr_decay']:g} per epoch), batch {options['batch_size']}; "
        f"budget {options['minutes']:g} min or {100 * options['target']:g} % exact match"
    )
    if args.summary:
        print(summary(model))
    optimizer = Adam(model.parameters(), lr=options["lr"])
    trainer = Trainer(
        model,
        CrossEntropyLoss(ignore_index=data.target_vocab.pad_id),
        optimizer,
        metrics=(),
        clip_norm=1.0,
        callbacks=[
            LearningRateScheduler(ExponentialLR(optimizer, gamma=options["lr_decay"])),
            HeldOutExactMatch(model, data, options["target"]),
            TimeBudget(60.0 * options["minutes"]),
        ],
        seed=args.seed,
    )
    start = time.perf_counter()
    history = trainer.fit(
        *data.train,
        epochs=args.epochs,
        batch_size=options["batch_size"],
        progress=not args.no_progress,
    )
    seconds = time.perf_counter() - start
    report(model, data, args, len(history["loss"]), seconds)
    if args.save:
        save(
            args.save, model, app="seq2seq", task=args.task, cell=args.cell,
            attention=args.attention, hidden=options["hidden"], embedding=options["embedding"],
            layers=args.layers, reverse_source=args.reverse_source,
            source_tokens=list(data.source_vocab.tokens[3:]),
            target_tokens=list(data.target_vocab.tokens[3:]),
        )  # fmt: skip
        print(f"model saved to {args.save}")
    if args.plot:
        plot_attention(model, data, args)
        print(f"attention plot written to {args.plot}")
    return 0


def report(
    model: Seq2Seq, data: TaskData, args: argparse.Namespace, epochs: int, seconds: float
) -> None:
    """Final exact match, greedy and with the beam, and a few held-out examples."""
    greedy = decode_all(model, data, 1)
    print(
        f"held-out exact match after {plural(epochs, 'epoch')} ({seconds:.0f} s): greedy "
        f"{100 * exact_match(greedy, data.test_pairs):.2f} %",
        end="",
    )
    if args.beam > 1:
        beam = decode_all(model, data, args.beam)
        print(f", beam {args.beam} {100 * exact_match(beam, data.test_pairs):.2f} %")
    else:
        beam = greedy
        print()
    width = max((len(source) for source, _ in data.test_pairs[: args.examples]), default=0)
    for (source, target), prediction in zip(data.test_pairs[: args.examples], beam, strict=False):
        mark = "ok" if prediction == target else f"WRONG (expected {target})"
        print(f"  {source:>{width}} -> {prediction}  {mark}")


def plot_attention(model: Seq2Seq, data: TaskData, args: argparse.Namespace) -> None:
    """Heatmap of the attention weights of a held-out example (the longest source of the first
    20): source characters along x, the model's own output characters along y."""
    plt = pyplot()
    (src, tgt_in, src_lengths), _ = data.test
    pick = int(np.argmax(src_lengths[:20]))
    one = slice(pick, pick + 1)
    vocab = data.target_vocab
    output = model.generate(
        src[one], tgt_in.shape[1], vocab.start_id, vocab.end_id, src_lengths=src_lengths[one]
    )[0]
    text = vocab.decode(output)
    steps = len(text) + 1  # the characters and the end token
    decoder_in = np.concatenate([[vocab.start_id], output[: steps - 1]])[None, :]
    was_training = model.training
    model.eval()
    try:
        model.forward(src[one], decoder_in, src_lengths[one])
    finally:
        model.train(was_training)
    assert model.attention_weights is not None
    length = int(src_lengths[pick])
    weights = model.attention_weights[0, :, :length]
    source = data.source_vocab.decode(src[pick, :length])
    figure, axis = plt.subplots(figsize=(max(5.0, 0.32 * length + 2.5), 0.4 * steps + 1.5))
    image = axis.imshow(weights, cmap="viridis", aspect="auto", vmin=0.0, vmax=1.0)
    figure.colorbar(image, ax=axis, label="attention weight")
    axis.set_xticks(range(length), [c if c != " " else "␣" for c in source])
    axis.set_yticks(range(steps), [*text, "</s>"])
    axis.set_xlabel("source" + (" (reversed)" if args.reverse_source else ""))
    axis.set_ylabel("output")
    axis.set_title(f"{args.task}: attention ({args.attention}) of a held-out example")
    figure.tight_layout()
    figure.savefig(args.plot, dpi=100)
    plt.close(figure)
