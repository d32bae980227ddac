"""Seq2Seq.generate: greedy equals step-by-step argmax, beam search finds more probable outputs,
nothing in the model changes, the prefix is never re-run, and bad input is refused."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

import minitorch_rnn as mt
from minitorch_rnn.seq2seq.search import log_softmax

START, END = 1, 2


def make_model(score: str | None = "general", cell: str = "gru", seed: int = 0) -> mt.Seq2Seq:
    model = mt.Seq2Seq(9, 7, 4, 6, cell=cell, attention=score, seed=seed, dtype=np.float64)
    # sharpen the random model so that outputs end at different lengths
    model.decoder.output.weight.data *= 3.0
    return model


def sequence_log_prob(model: mt.Seq2Seq, src: np.ndarray, lengths: Any, ids: np.ndarray) -> Any:
    """Summed log-probability of each row of ``ids`` up to and including its first END, by
    teacher forcing (independent of the search code)."""
    tgt_in = np.concatenate([np.full((len(ids), 1), START), ids[:, :-1]], axis=1)
    log_probs = log_softmax(model.forward(src, tgt_in, lengths))
    picked = np.take_along_axis(log_probs, ids[..., None], axis=2)[..., 0]
    ended = np.cumsum(ids == END, axis=1)
    counted = (ended == 0) | ((ended == 1) & (ids == END))
    return (picked * counted).sum(axis=1)


@pytest.mark.parametrize("score", ["dot", "additive", None])
def test_greedy_equals_argmax_of_forward_on_its_own_output(
    score: str | None, rng: np.random.Generator
) -> None:
    model = make_model(score, cell="lstm")
    src, lengths = rng.integers(0, 9, (5, 6)), np.array([6, 3, 1, 4, 6])
    ids = model.generate(src, 8, START, END, src_lengths=lengths)
    model.eval()
    for t in range(ids.shape[1]):
        tgt_in = np.concatenate([np.full((5, 1), START), ids[:, :t]], axis=1)
        step = model.forward(src, tgt_in, lengths)[:, -1].argmax(axis=1)
        running = ~np.any(ids[:, :t] == END, axis=1)
        np.testing.assert_array_equal(ids[running, t], step[running])
        assert np.all(ids[~running, t] == END)  # after END: END


def test_output_is_max_length_unless_every_sample_ended(rng: np.random.Generator) -> None:
    model = make_model()
    src = rng.integers(0, 9, (4, 5))
    assert model.generate(src, 6, START).shape == (4, 6)  # no end_id: always max_length
    ids = model.generate(src, 40, START, END)
    assert ids.shape[1] <= 40
    if ids.shape[1] < 40:
        assert np.all(ids[:, -1] == END)


@pytest.mark.parametrize("seed", range(6))
def test_beam_5_never_scores_lower_than_greedy(seed: int) -> None:
    model = make_model(seed=seed)
    rng = np.random.default_rng(seed)
    src, lengths = rng.integers(0, 9, (8, 5)), rng.integers(1, 6, 8)
    greedy = model.generate(src, 10, START, END, src_lengths=lengths)
    beam = model.generate(src, 10, START, END, beam_size=5, src_lengths=lengths)
    width = max(greedy.shape[1], beam.shape[1])
    greedy = np.pad(greedy, ((0, 0), (0, width - greedy.shape[1])), constant_values=END)
    beam = np.pad(beam, ((0, 0), (0, width - beam.shape[1])), constant_values=END)
    model.eval()
    greedy_score = sequence_log_prob(model, src, lengths, greedy)
    beam_score = sequence_log_prob(model, src, lengths, beam)
    assert np.all(beam_score >= greedy_score - 1e-9)
    if seed == 0:  # on this input beam search finds a strictly more probable output
        assert np.any(beam_score > greedy_score + 1e-6)


def test_beam_search_finds_the_most_probable_output_when_the_beam_holds_everything() -> None:
    # 4 target tokens and length 3: a beam of 4**3 = 64 keeps every sequence (exhaustive search)
    model = mt.Seq2Seq(5, 4, 3, 4, cell="rnn", attention="dot", seed=3, dtype=np.float64)
    model.decoder.output.weight.data *= 4.0
    src = np.array([[0, 3, 4, 1]])
    best = model.generate(src, 3, START, None, beam_size=64)
    model.eval()
    every = np.array(np.meshgrid(*[range(4)] * 3, indexing="ij")).reshape(3, -1).T
    # without end_id every token counts (END is an ordinary token here)
    tgt_in = np.concatenate([np.full((len(every), 1), START), every[:, :-1]], axis=1)
    log_probs = log_softmax(model.forward(np.repeat(src, len(every), 0), tgt_in))
    scores = np.take_along_axis(log_probs, every[..., None], axis=2)[..., 0].sum(axis=1)
    np.testing.assert_array_equal(best[0], every[np.argmax(scores)])


def snapshot(model: mt.Module) -> dict[str, Any]:
    return {
        "params": {n: p.data.copy() for n, p in model.named_parameters()},
        "grads": {n: p.grad.copy() for n, p in model.named_parameters()},
        "modes": [m.training for m in model.modules()],
        "states": [copy.deepcopy(getattr(m, "state", None)) for m in model.modules()],
    }


def _assert_same_state(after: object, before: object) -> None:
    """A carried state (None, an array or nested tuples of arrays) unchanged in value."""
    if isinstance(before, tuple):
        assert isinstance(after, tuple) and len(after) == len(before)
        for part_after, part_before in zip(after, before, strict=True):
            _assert_same_state(part_after, part_before)
    elif before is None:
        assert after is None
    else:
        np.testing.assert_array_equal(after, before)  # type: ignore[arg-type]


def test_generate_changes_nothing_and_a_pending_backward_still_works(
    rng: np.random.Generator,
) -> None:
    model = make_model("additive", cell="lstm")
    src, tgt_in = rng.integers(0, 9, (3, 5)), rng.integers(0, 7, (3, 4))
    lengths = np.array([5, 2, 3])
    logits = model.forward(src, tgt_in, lengths)
    weights = model.attention_weights
    grad = rng.standard_normal(logits.shape)
    before = snapshot(model)
    model.generate(rng.integers(0, 9, (2, 7)), 5, START, END, beam_size=3)
    after = snapshot(model)
    for key in ("params", "grads"):
        for name, value in before[key].items():
            np.testing.assert_array_equal(after[key][name], value)
    assert after["modes"] == before["modes"] and all(before["modes"])
    for state_after, state_before in zip(after["states"], before["states"], strict=True):
        _assert_same_state(state_after, state_before)
    assert model.attention_weights is weights
    # the pending backward gives the gradients of a fresh model that never generated
    model.backward(grad)
    fresh = make_model("additive", cell="lstm")
    fresh.forward(src, tgt_in, lengths)
    fresh.backward(grad)
    for (name, p), q in zip(model.named_parameters(), fresh.parameters(), strict=True):
        np.testing.assert_array_equal(p.grad, q.grad, err_msg=name)


def test_decoder_steps_one_token_at_a_time_without_rerunning_the_prefix(
    rng: np.random.Generator,
) -> None:
    model = make_model()
    calls: list[tuple[int, ...]] = []
    decoder_forward = model.decoder.forward

    def recording(tgt_in: Any, *args: Any) -> Any:
        calls.append(np.shape(tgt_in))
        return decoder_forward(tgt_in, *args)

    model.decoder.forward = recording  # type: ignore[method-assign]
    model.generate(rng.integers(0, 9, (2, 5)), 7, START, None, beam_size=2)
    assert calls == [(4, 1)] * 7  # 2 samples x 2 hypotheses, one token per call


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        ({"src": [[0, 9]]}, ValueError, r"Seq2Seq.generate: src ids must lie in \[0, 8\]"),
        ({"src": [[0.5]]}, TypeError, "Seq2Seq.generate: src must be an integer array"),
        ({"src_lengths": [4]}, ValueError, "Seq2Seq.generate: src_lengths: lengths must lie"),
        ({"src_lengths": [1, 1]}, ValueError, "Seq2Seq.generate: src_lengths: lengths must have"),
        ({"start_id": 7}, ValueError, r"start_id must lie in \[0, 6\]"),
        ({"end_id": -1}, ValueError, r"end_id must lie in \[0, 6\]"),
        ({"max_length": 0}, ValueError, "max_length must be >= 1"),
        ({"beam_size": 0}, ValueError, "beam_size must be >= 1"),
        ({"beam_size": 2.0}, TypeError, "beam_size must be an int"),
    ],
)
def test_bad_arguments_are_refused_naming_them(
    call: dict[str, Any], error: type, message: str
) -> None:
    model = make_model()
    arguments = {"src": [[0, 1, 2]], "max_length": 4, "start_id": START, "end_id": END}
    with pytest.raises(error, match=message):
        model.generate(**{**arguments, **call})
