"""Sampling speed: tokens/s of ``mt.generate.sample`` from a character model, beside the same loop
in PyTorch, and the eval-forward memory of a long sequence.

The model is the command line's character model (``Embedding(65, 64) -> 2-layer LSTM 256 ->
Dense 65``). Ours draws ``tokens`` ids with :func:`minitorch_rnn.generate.sample` (each new token is
one step of the carried state, never a rerun of the prefix); PyTorch's loop does the same with
``nn.Embedding``, ``nn.LSTM(num_layers=2)``, ``nn.Linear``, the state carried by hand, a softmax and
a multinomial draw per token, under ``inference_mode``. Both are timed interleaved.
"""

from __future__ import annotations

import statistics
from types import ModuleType
from typing import Any

import numpy as np

import minitorch_rnn as mt
from minitorch_rnn.examples.char_model import build_char_model

from . import memory
from .configs import VOCAB
from .timing import Contender, interleave

__all__ = ["EMBEDDING", "HIDDEN", "LAYERS", "eval_memory", "measure_sampling", "sampling_lines"]

EMBEDDING, HIDDEN, LAYERS = 64, 256, 2
MIB = 2**20


def _torch_loop(torch: ModuleType, model: mt.Sequential, tokens: int) -> Any:
    """PyTorch's sampling loop with our model's weights."""
    embedding = torch.nn.Embedding(VOCAB, EMBEDDING)
    recurrent = torch.nn.LSTM(EMBEDDING, HIDDEN, num_layers=LAYERS, batch_first=True)
    head = torch.nn.Linear(HIDDEN, VOCAB)
    ours = dict(model.named_parameters())
    with torch.no_grad():
        for name, tensor in embedding.named_parameters():
            tensor.copy_(torch.from_numpy(ours[f"0.{name}"].data.copy()))
        for name, tensor in recurrent.named_parameters():
            tensor.copy_(torch.from_numpy(ours[f"1.{name}"].data.copy()))
        for name, tensor in head.named_parameters():
            tensor.copy_(torch.from_numpy(ours[f"2.{name}"].data.copy()))
    generator = torch.Generator().manual_seed(0)

    def sample() -> list[int]:
        drawn: list[int] = []
        with torch.inference_mode():
            token = torch.zeros((1, 1), dtype=torch.long)
            state = None
            for _ in range(tokens):
                output, state = recurrent(embedding(token), state)
                probabilities = torch.softmax(head(output[:, -1]), dim=-1)
                token = torch.multinomial(probabilities, 1, generator=generator)
                drawn.append(int(token))
        return drawn

    return sample


def measure_sampling(
    torch: ModuleType | None, tokens: int, repeats: int, min_time: float, settle: float
) -> dict[str, Any]:
    """Tokens/s of ours and (when available) PyTorch's sampling loop, and their paired ratio."""
    model = build_char_model(VOCAB, EMBEDDING, "lstm", HIDDEN, layers=LAYERS, seed=0)
    model.eval()
    contenders = [Contender("ours", lambda: mt.generate.sample(model, [0], tokens, rng=0), tokens)]
    if torch is not None:
        contenders.append(Contender("torch", _torch_loop(torch, model, tokens), tokens))
    timings = interleave(contenders, repeats, min_time, settle)
    result: dict[str, Any] = {
        "model": f"Embedding({VOCAB}, {EMBEDDING}) -> {LAYERS}-layer LSTM {HIDDEN} -> Dense {VOCAB}",
        "tokens": tokens,
        "tokens_per_s": {c.name: timings.tokens_per_second(c.name) for c in contenders},
        "seq2seq": _seq2seq_greedy(repeats, min_time, settle),
    }
    if torch is not None:
        result["ours_over_torch"] = statistics.median(timings.ratios("ours", "torch"))
    return result


def _seq2seq_greedy(repeats: int, min_time: float, settle: float) -> str:
    """Tokens/s of greedy ``Seq2Seq.generate`` with the dates task's default model size (LSTM 64,
    dot attention), batch 1 and batch 64, 10 output tokens from 20 source tokens.

    No PyTorch loop stands beside it yet: torch has no attention decoder of this exact form, and a
    hand-written one is the next step for this row.
    """
    vocabulary, steps, length = 40, 20, 10
    model = mt.Seq2Seq(vocabulary, vocabulary, 32, 64, cell="lstm", attention="dot", seed=0)
    model.eval()
    rng = np.random.default_rng(0)
    contenders = []
    for batch in (1, 64):
        src = rng.integers(3, vocabulary, size=(batch, steps))
        contenders.append(
            Contender(f"B{batch}", lambda src=src: model.generate(src, length, 1), batch * length)
        )
    timings = interleave(contenders, repeats, min_time, settle)
    speeds = ", ".join(
        f"{c.name} {timings.tokens_per_second(c.name):,.0f} tok/s" for c in contenders
    )
    return f"{speeds} (LSTM 64, dot attention, 20 source tokens, 10 generated; ours only)"


def eval_memory(steps: tuple[int, ...], batch: int) -> dict[str, Any]:
    """Peak traced memory of an eval forward of ``Unroll(LSTMCell(65, 256),
    return_sequences=False)`` at each length, input made beforehand (after a warm-up)."""
    unroll = mt.Unroll(mt.LSTMCell(VOCAB, HIDDEN, seed=0), return_sequences=False)
    unroll.eval()
    unroll.forward(np.zeros((batch, min(steps), VOCAB), np.float32))
    peaks = {}
    for length in steps:
        ids = np.random.default_rng(0).integers(0, VOCAB, size=(batch, length))
        x = np.eye(VOCAB, dtype=np.float32)[ids]
        peaks[str(length)] = {
            "peak_mib": memory.traced_peak_bytes(lambda x=x: unroll.forward(x)) / MIB,
            "input_mib": x.nbytes / MIB,
        }
    return {"batch": batch, "hidden": HIDDEN, "peaks": peaks}


def sampling_lines(
    result: dict[str, Any] | None, memory_result: dict[str, Any] | None
) -> list[str]:
    """The sampling and eval-memory rows as printed."""
    lines = []
    if result is not None:
        speed = result["tokens_per_s"]
        line = f"generate.sample, {result['model']}, {result['tokens']} tokens: ours {speed['ours']:,.0f} tok/s"
        if "torch" in speed:
            line += (
                f", PyTorch loop {speed['torch']:,.0f} tok/s, "
                f"ours/torch {result['ours_over_torch']:.2f}x"
            )
        lines += [line, f"Seq2Seq.generate (greedy): {result['seq2seq']}"]
    if memory_result is not None:
        parts = ", ".join(
            f"T={steps}: {entry['peak_mib']:.2f} MiB (input {entry['input_mib']:.1f} MiB)"
            for steps, entry in memory_result["peaks"].items()
        )
        lines.append(
            f"eval forward peak memory, Unroll(LSTM {memory_result['hidden']}), "
            f"return_sequences=False, B{memory_result['batch']}: {parts}"
        )
    return lines
