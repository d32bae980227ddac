"""``minitorch-rnn sample CKPT``: generation from dinos and charlm checkpoints, and bad checkpoints."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from minitorch_rnn.examples.char_model import build_char_model
from minitorch_rnn.serialization import save

SEPARATOR = "\n" + "-" * 40 + "\n"
DINOS_SETTINGS = ["--n", "3", "--temperature", "0.8", "--top-k", "5"]


def charlm_samples(output: str) -> list[str]:
    """Split the output of ``sample`` on a charlm checkpoint into its samples."""
    assert output.endswith("\n")
    return output[:-1].split(SEPARATOR)


def test_sample_from_dinos_with_the_same_seed_repeats_itself(
    cli: Callable[..., Any], dinos_run: Any
) -> None:
    first = cli("sample", str(dinos_run.checkpoint), *DINOS_SETTINGS, "--seed", "1")
    second = cli("sample", str(dinos_run.checkpoint), *DINOS_SETTINGS, "--seed", "1")
    assert first.code == second.code == 0, first.err
    assert first.out == second.out
    names = first.out.splitlines()
    assert len(names) == 3
    for name in names:
        assert 0 < len(name) <= 50
        assert name == name.capitalize()
        assert set(name.lower()) <= set("abcdefghijklmnopqrstuvwxyz")


def test_sample_from_dinos_with_another_seed_gives_other_names(
    cli: Callable[..., Any], dinos_run: Any
) -> None:
    outputs = {
        cli("sample", str(dinos_run.checkpoint), *DINOS_SETTINGS, "--seed", str(seed)).out
        for seed in (1, 2)
    }
    assert len(outputs) == 2


def test_sample_with_top_k_one_is_greedy_whatever_the_seed(
    cli: Callable[..., Any], dinos_run: Any
) -> None:
    outputs = {
        cli("sample", str(dinos_run.checkpoint), "--n", "2", "--top-k", "1", "--seed", seed).out
        for seed in ("1", "2")
    }
    (output,) = outputs
    first, second = output.splitlines()
    assert first == second


def test_sample_from_dinos_respects_the_length_limit(
    cli: Callable[..., Any], dinos_run: Any
) -> None:
    result = cli("sample", str(dinos_run.checkpoint), "--n", "5", "--length", "3", "--seed", "4")
    assert result.code == 0, result.err
    names = result.out.splitlines()
    assert len(names) == 5
    assert all(len(name) <= 3 for name in names)


def test_charlm_checkpoint_samples_continue_the_prime(
    cli: Callable[..., Any], charlm_run: Any
) -> None:
    arguments = ("sample", str(charlm_run.checkpoint), "--n", "3", "--length", "12")
    result = cli(*arguments, "--prime", "the ", "--seed", "5")
    assert result.code == 0, result.err
    samples = charlm_samples(result.out)
    assert len(samples) == 3
    for text in samples:
        assert text.startswith("the ")
        assert len(text) == len("the ") + 12  # no stop token: exactly --length characters
    assert cli(*arguments, "--prime", "the ", "--seed", "5").out == result.out


def test_charlm_checkpoint_without_prime_starts_from_a_newline(
    cli: Callable[..., Any], charlm_run: Any
) -> None:
    result = cli("sample", str(charlm_run.checkpoint), "--n", "1", "--length", "15")
    assert result.code == 0, result.err
    (text,) = charlm_samples(result.out)
    assert text.startswith("\n") and len(text) == 16


def test_charlm_prime_with_an_unknown_character_is_a_one_line_error(
    cli: Callable[..., Any], charlm_run: Any
) -> None:
    result = cli("sample", str(charlm_run.checkpoint), "--prime", "the #")
    result.assert_one_line_error("minitorch-rnn sample: error", "--prime", "'#'")


def test_missing_checkpoint_is_a_one_line_error(cli: Callable[..., Any], tmp_path: Path) -> None:
    cli("sample", str(tmp_path / "none.npz")).assert_one_line_error("none.npz")


def test_random_bytes_are_a_one_line_error(cli: Callable[..., Any], tmp_path: Path) -> None:
    path = tmp_path / "noise.npz"
    path.write_bytes(np.random.default_rng(0).bytes(4096))
    cli("sample", str(path)).assert_one_line_error("noise.npz", "not a minitorch_rnn checkpoint")


@pytest.mark.parametrize("keep", [0.5, 0.98])
def test_truncated_checkpoint_is_a_one_line_error(
    cli: Callable[..., Any], dinos_run: Any, tmp_path: Path, keep: float
) -> None:
    data = dinos_run.checkpoint.read_bytes()
    path = tmp_path / "truncated.npz"
    path.write_bytes(data[: int(len(data) * keep)])
    cli("sample", str(path)).assert_one_line_error("truncated.npz")


def test_checkpoint_of_another_application_is_a_one_line_error(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    checkpoint = tmp_path / "subtract.npz"
    trained = cli(
        "subtract", "--bits", "2", "--epochs", "1", "--no-progress", "--save", str(checkpoint)
    )
    assert trained.code == 0, trained.err
    result = cli("sample", str(checkpoint))
    result.assert_one_line_error("not a dinos/charlm checkpoint")
    assert result.out == ""


def test_checkpoint_whose_model_does_not_fit_its_vocabulary_is_a_one_line_error(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    path = tmp_path / "mismatch.npz"
    save(path, build_char_model(27, 8, "rnn", hidden=12), **{**GOOD_META, "vocabulary": "\nabc"})
    cli("sample", str(path)).assert_one_line_error("mismatch.npz", "over its 4 characters")


def test_checkpoint_without_a_model_config_is_a_one_line_error_saying_to_re_save(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    source, old = tmp_path / "source.npz", tmp_path / "old.npz"
    save(source, build_char_model(27, 8, "rnn", hidden=12), **GOOD_META)
    rewrite_meta(source, old, lambda meta: meta.pop("config"))
    cli("sample", str(old)).assert_one_line_error("old.npz", "without a model config", "re-save")


@pytest.mark.parametrize(
    "option, value",
    [("--n", "0"), ("--temperature", "0"), ("--temperature", "-1"), ("--top-k", "0")],
)
def test_invalid_sampling_options_are_rejected_by_the_parser(
    cli: Callable[..., Any], dinos_run: Any, option: str, value: str
) -> None:
    cli("sample", str(dinos_run.checkpoint), option, value).assert_one_line_error(option)


VOCABULARY = "\n" + "abcdefghijklmnopqrstuvwxyz"
GOOD_META: dict[str, Any] = {"app": "dinos", "vocabulary": VOCABULARY}


def rewrite_meta(source: Path, target: Path, change: Callable[[dict[str, Any]], Any]) -> None:
    """Copy checkpoint ``source`` to ``target`` with its meta JSON passed through ``change``."""
    with zipfile.ZipFile(source) as real, zipfile.ZipFile(target, "w") as out:
        for name in real.namelist():
            data = real.read(name)
            if name == "meta.npy":
                meta = json.loads(str(np.load(io.BytesIO(data))))
                change(meta)
                stored = io.BytesIO()
                np.save(stored, np.array(json.dumps(meta)))
                data = stored.getvalue()
            out.writestr(name, data)


@pytest.mark.parametrize(
    "field, value, fragment",
    [
        ("vocabulary", list(range(27)), "'vocabulary' must be a string"),
        ("vocabulary", [[[["a"]]]], "'vocabulary' must be a string"),
        ("vocabulary", {"a": 1}, "'vocabulary' must be a string"),
        ("vocabulary", "abc", "starting with a newline"),
        ("vocabulary", "\naab", "repeats a character"),
        ("app", None, "not a dinos/charlm checkpoint"),
    ],
)
def test_every_meta_field_is_checked_before_a_model_is_built(
    cli: Callable[..., Any], tmp_path: Path, field: str, value: Any, fragment: str
) -> None:
    path = tmp_path / "hostile.npz"
    save(path, build_char_model(27, 8, "rnn", hidden=12), **{**GOOD_META, field: value})
    result = cli("sample", str(path))
    result.assert_one_line_error("hostile.npz", fragment)
    assert result.out == ""


def _set(config: dict[str, Any], part: int, key: str, value: Any) -> None:
    config["modules"][part][key] = value


@pytest.mark.parametrize(
    "part, key, value, fragment",
    [
        # would be a 74 GiB model if believed
        (1, "hidden_size", 100_000, "disagrees with its weights"),
        (1, "hidden_size", 12.5, "hidden_size must be an int"),
        (1, "num_layers", 2, "more than 7 parameters"),
        (1, "bidirectional", True, "weights missing from the file"),
        (0, "embedding_dim", -3, "embedding_dim must be >= 1"),
        (1, "class", "TransformerStack", "'TransformerStack' is neither a built-in"),
        (1, "dropout", 1.5, "dropout must be in [0, 1)"),
    ],
)
def test_every_size_of_the_stored_config_is_checked_before_a_model_is_built(
    cli: Callable[..., Any], tmp_path: Path, part: int, key: str, value: Any, fragment: str
) -> None:
    source, path = tmp_path / "source.npz", tmp_path / "hostile.npz"
    save(source, build_char_model(27, 8, "rnn", hidden=12), **GOOD_META)
    rewrite_meta(source, path, lambda meta: _set(meta["config"], part, key, value))
    result = cli("sample", str(path))
    result.assert_one_line_error("hostile.npz", fragment)
    assert result.out == ""


def test_plain_text_file_is_a_one_line_error_saying_it_is_text(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not a checkpoint at all\n", encoding="utf-8")
    result = cli("sample", str(path))
    result.assert_one_line_error("notes.txt", "a text file, not an .npz")
    assert "pickle" not in result.err


def test_prime_starts_every_dinos_name(cli: Callable[..., Any], dinos_run: Any) -> None:
    result = cli("sample", str(dinos_run.checkpoint), "--n", "4", "--prime", "Ty", "--seed", "2")
    assert result.code == 0, result.err
    names = result.out.splitlines()
    assert len(names) == 4
    assert all(name.startswith("Ty") for name in names), names


def test_dinos_prime_outside_the_alphabet_is_a_one_line_error(
    cli: Callable[..., Any], dinos_run: Any
) -> None:
    cli("sample", str(dinos_run.checkpoint), "--prime", "t9").assert_one_line_error(
        "--prime", "'9'"
    )


def test_a_vanishing_temperature_samples_greedily_without_an_error(
    cli: Callable[..., Any], dinos_run: Any
) -> None:
    tiny = cli("sample", str(dinos_run.checkpoint), "--n", "2", "--temperature", "1e-308")
    greedy = cli("sample", str(dinos_run.checkpoint), "--n", "2", "--top-k", "1")
    assert tiny.code == 0, tiny.err
    assert tiny.out == greedy.out


@pytest.mark.parametrize("hidden", [8000, 10**6])
def test_a_small_file_declaring_a_huge_model_is_refused_with_bounded_memory(
    cli: Callable[..., Any], tmp_path: Path, hidden: int
) -> None:
    import tracemalloc

    # A hand-made checkpoint of about 5 KB whose array headers declare the sizes of a model of
    # ``hidden`` units (a 10**6-unit LSTM would need terabytes): nothing of that size may be built.
    source = tmp_path / "real.npz"
    save(source, build_char_model(27, 8, "lstm", hidden=12), **GOOD_META)
    hostile = tmp_path / "hostile.npz"
    declared = {
        "0.weight": (27, 8),
        "1.weight_ih_l0": (4 * hidden, 8),
        "1.weight_hh_l0": (4 * hidden, hidden),
        "1.bias_ih_l0": (4 * hidden,),
        "1.bias_hh_l0": (4 * hidden,),
        "2.weight": (27, hidden),
        "2.bias": (27,),
    }
    with zipfile.ZipFile(source) as real, zipfile.ZipFile(hostile, "w") as out:
        meta = json.loads(str(np.load(io.BytesIO(real.read("meta.npy")))))
        meta["config"]["modules"][1]["hidden_size"] = hidden
        meta["config"]["modules"][2]["in_features"] = hidden
        stored = io.BytesIO()
        np.save(stored, np.array(json.dumps(meta)))
        out.writestr("meta.npy", stored.getvalue())
        for name, shape in declared.items():
            header = io.BytesIO()
            np.lib.format.write_array_header_1_0(
                header, {"descr": "<f4", "fortran_order": False, "shape": shape}
            )
            out.writestr(f"model/{name}.npy", header.getvalue() + bytes(16))
    assert hostile.stat().st_size < 8192
    tracemalloc.start()
    try:
        result = cli("sample", str(hostile))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    result.assert_one_line_error("hostile.npz")
    assert peak < 20 * 2**20  # measured: under 1 MiB; a model of 8000 units is 800 MB
