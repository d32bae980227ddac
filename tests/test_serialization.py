"""Checkpoints: round trip, atomic writes, and all-or-nothing loading with clear errors."""

from __future__ import annotations

import io
import os
import time
import tracemalloc
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import minitorch_rnn as mt
from minitorch_rnn import optim
from minitorch_rnn.serialization import (
    FORMAT_VERSION,
    MAX_META_CHARS,
    ArrayInfo,
    load,
    read_headers,
    read_meta,
    read_shapes,
    save,
)


def make_model(seed: int = 0, dtype: type = np.float32, hidden: int = 4) -> mt.Sequential:
    return mt.Sequential(
        mt.Dense(3, hidden, seed=seed, dtype=dtype),
        mt.Tanh(),
        mt.Dense(hidden, 2, seed=seed + 1, dtype=dtype),
    )


def batches(count: int, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """``count`` pairs of (input, gradient at the output) for the models below."""
    rng = np.random.default_rng(seed)
    return [(rng.normal(size=(5, 3)), rng.normal(size=(5, 2))) for _ in range(count)]


def train_steps(model: mt.Module, optimizer: optim.Optimizer, steps: int, seed: int = 0) -> None:
    train_on(model, optimizer, batches(steps, seed))


def train_on(
    model: mt.Module, optimizer: optim.Optimizer, data: list[tuple[np.ndarray, np.ndarray]]
) -> None:
    for x, grad_output in data:
        optimizer.zero_grad()
        model.forward(x)
        model.backward(grad_output)
        optimizer.step()


def snapshot(model: mt.Module, optimizer: optim.Optimizer | None = None) -> dict[str, np.ndarray]:
    state = {f"model/{k}": v for k, v in model.state_dict().items()}
    if optimizer is not None:
        state.update({f"optimizer/{k}": v for k, v in optimizer.state_dict().items()})
    return state


def assert_same(first: dict[str, np.ndarray], second: dict[str, np.ndarray]) -> None:
    assert set(first) == set(second)
    for key in first:
        assert first[key].dtype == second[key].dtype, key
        assert np.array_equal(first[key], second[key]), key


@pytest.fixture
def checkpoint(tmp_path: Path) -> Path:
    """A real checkpoint of a trained model and Adam optimiser."""
    model = make_model()
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    train_steps(model, optimizer, 2)
    path = tmp_path / "model.npz"
    save(path, model, optimizer, epoch=2)
    return path


@pytest.fixture
def target() -> tuple[mt.Sequential, optim.Adam]:
    """A different model and optimiser to load into, already with some history."""
    model = make_model(seed=10)
    optimizer = optim.Adam(model.parameters(), lr=0.5)
    train_steps(model, optimizer, 1, seed=3)
    return model, optimizer


# -- round trip --------------------------------------------------------------------------------


def test_round_trip_restores_model_optimizer_and_meta(tmp_path: Path) -> None:
    model = make_model()
    optimizer = optim.Adam(model.parameters(), lr=0.01, amsgrad=True)
    train_steps(model, optimizer, 3)
    path = tmp_path / "ckpt.npz"
    save(path, model, optimizer, epoch=3, history={"loss": [1.5, 1.25]}, note="hi", best=None)

    other = make_model(seed=7)
    other_optimizer = optim.Adam(other.parameters(), lr=0.9, amsgrad=True)
    meta = load(path, other, other_optimizer)
    assert_same(snapshot(other, other_optimizer), snapshot(model, optimizer))
    assert meta["epoch"] == 3
    assert meta["history"] == {"loss": [1.5, 1.25]}
    assert meta["note"] == "hi" and meta["best"] is None
    assert meta["model_class"] == "Sequential"
    assert meta["format_version"] == FORMAT_VERSION


def test_training_resumed_from_checkpoint_equals_uninterrupted(tmp_path: Path) -> None:
    straight = make_model()
    straight_optimizer = optim.RMSprop(straight.parameters(), lr=0.01, momentum=0.5)
    train_steps(straight, straight_optimizer, 3)

    model = make_model()
    optimizer = optim.RMSprop(model.parameters(), lr=0.01, momentum=0.5)
    train_steps(model, optimizer, 2)
    save(tmp_path / "ckpt.npz", model, optimizer)

    resumed = make_model(seed=5)
    resumed_optimizer = optim.RMSprop(resumed.parameters(), lr=0.01, momentum=0.5)
    load(tmp_path / "ckpt.npz", resumed, resumed_optimizer)
    # The third batch of the uninterrupted run.
    train_on(resumed, resumed_optimizer, batches(3)[2:])
    assert_same(snapshot(resumed, resumed_optimizer), snapshot(straight, straight_optimizer))


def test_file_is_a_plain_npz_with_documented_keys(checkpoint: Path) -> None:
    with np.load(checkpoint, allow_pickle=False) as archive:
        keys = set(archive.files)
        meta = archive["meta"]
    assert "model/0.weight" in keys and "model/2.bias" in keys
    assert "optimizer/lr" in keys and "optimizer/state.0.exp_avg" in keys
    assert meta.shape == () and meta.dtype.kind == "U"


def test_model_only_checkpoint_loads_without_optimizer(tmp_path: Path) -> None:
    model = make_model()
    save(tmp_path / "weights.npz", model)
    other = make_model(seed=3)
    load(tmp_path / "weights.npz", other)
    assert_same(other.state_dict(), model.state_dict())


def test_optimizer_state_in_file_is_ignored_when_no_optimizer_is_given(
    checkpoint: Path, target: tuple[mt.Sequential, optim.Adam]
) -> None:
    model, _ = target
    load(checkpoint, model)
    with np.load(checkpoint) as archive:
        np.testing.assert_array_equal(model.state_dict()["0.weight"], archive["model/0.weight"])


def test_float32_checkpoint_loads_into_float64_model(checkpoint: Path) -> None:
    model = make_model(seed=4, dtype=np.float64)
    load(checkpoint, model)
    assert all(p.dtype == np.float64 for p in model.parameters())


@pytest.mark.parametrize("name", ["checkpoint", "checkpoint.bin", "checkpoint.npz"])
def test_file_lands_exactly_at_the_given_path(tmp_path: Path, name: str) -> None:
    model = make_model()
    save(str(tmp_path / name), model)
    assert os.listdir(tmp_path) == [name]
    load(str(tmp_path / name), make_model(seed=2))


def test_overwriting_keeps_permission_bits(tmp_path: Path) -> None:
    path = tmp_path / "ckpt.npz"
    path.write_bytes(b"old")
    os.chmod(path, 0o640)
    save(path, make_model())
    assert path.stat().st_mode & 0o777 == 0o640


# -- meta validation ---------------------------------------------------------------------------


@pytest.mark.parametrize("value", [object(), np.float32(1.0), {1, 2}, {"a": np.zeros(2)}])
def test_non_json_meta_is_a_type_error_before_writing(tmp_path: Path, value: Any) -> None:
    with pytest.raises(TypeError, match="bad"):
        save(tmp_path / "ckpt.npz", make_model(), bad=value)
    assert os.listdir(tmp_path) == []


def test_reserved_meta_name_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="model_class"):
        save(tmp_path / "ckpt.npz", make_model(), model_class="Mine")
    assert os.listdir(tmp_path) == []


def test_save_rejects_wrong_argument_types(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="Module"):
        save(tmp_path / "a.npz", {"w": np.zeros(2)})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Optimizer"):
        save(tmp_path / "a.npz", make_model(), optimizer="adam")  # type: ignore[arg-type]
    assert os.listdir(tmp_path) == []


def test_save_into_missing_directory_is_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="missing"):
        save(tmp_path / "missing" / "ckpt.npz", make_model())


# -- atomicity ---------------------------------------------------------------------------------


@pytest.mark.parametrize("failing", ["numpy.savez", "os.replace", "os.fsync"])
def test_failure_mid_write_keeps_previous_file_and_leaves_no_temp_file(
    checkpoint: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    previous = checkpoint.read_bytes()

    def explode(*args: Any, **kwargs: Any) -> None:
        raise OSError("disk on fire")

    monkeypatch.setattr(failing, explode)
    with pytest.raises(OSError, match="disk on fire"):
        save(checkpoint, make_model(seed=9), epoch=99)
    monkeypatch.undo()
    assert os.listdir(checkpoint.parent) == [checkpoint.name]
    assert checkpoint.read_bytes() == previous


def test_partial_write_then_failure_leaves_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_savez = np.savez

    def write_some_then_fail(file: Any, **arrays: Any) -> None:
        real_savez(file, **arrays)
        raise KeyboardInterrupt

    monkeypatch.setattr("numpy.savez", write_some_then_fail)
    with pytest.raises(KeyboardInterrupt):
        save(tmp_path / "ckpt.npz", make_model())
    assert os.listdir(tmp_path) == []


# -- corrupt and foreign files -----------------------------------------------------------------


def assert_unchanged_after_failed_load(
    path: Path, target: tuple[mt.Sequential, optim.Adam], error: type, message: str
) -> None:
    model, optimizer = target
    before = snapshot(model, optimizer)
    with pytest.raises(error, match=message):
        load(path, model, optimizer)
    assert_same(snapshot(model, optimizer), before)


def test_missing_file_is_file_not_found_naming_the_path(
    tmp_path: Path, target: tuple[mt.Sequential, optim.Adam]
) -> None:
    assert_unchanged_after_failed_load(
        tmp_path / "nowhere.npz", target, FileNotFoundError, r"nowhere\.npz"
    )


@pytest.mark.parametrize("fraction", [0.5, 0.9, 0.1])
def test_truncated_checkpoint_is_reported_as_corrupt(
    checkpoint: Path, target: tuple[mt.Sequential, optim.Adam], fraction: float
) -> None:
    data = checkpoint.read_bytes()
    checkpoint.write_bytes(data[: int(len(data) * fraction)])
    assert_unchanged_after_failed_load(checkpoint, target, ValueError, "corrupt or not")


def test_flipped_bytes_inside_an_entry_are_reported_as_corrupt(
    checkpoint: Path, target: tuple[mt.Sequential, optim.Adam]
) -> None:
    data = bytearray(checkpoint.read_bytes())
    with zipfile.ZipFile(checkpoint) as archive:
        info = archive.getinfo("optimizer/state.3.exp_avg_sq.npy")
    # Last byte of that member's data: its CRC no longer matches.
    position = info.header_offset + 30 + len(info.filename) + len(info.extra) + info.file_size - 1
    data[position] ^= 0xFF
    checkpoint.write_bytes(bytes(data))
    assert_unchanged_after_failed_load(checkpoint, target, ValueError, "corrupt or not")


@pytest.mark.parametrize(
    "content",
    [b"", bytes(range(256)) * 8, b"PK\x03\x04 not really a zip"],
)
def test_random_bytes_are_reported_as_corrupt(
    tmp_path: Path, target: tuple[mt.Sequential, optim.Adam], content: bytes
) -> None:
    path = tmp_path / "junk.npz"
    path.write_bytes(content)
    assert_unchanged_after_failed_load(path, target, ValueError, "corrupt or not")


def test_plain_npy_file_is_not_a_checkpoint(
    tmp_path: Path, target: tuple[mt.Sequential, optim.Adam]
) -> None:
    path = tmp_path / "array.npy"
    np.save(path, np.zeros(3))
    assert_unchanged_after_failed_load(path, target, ValueError, "corrupt or not")


def test_foreign_npz_without_meta_is_not_a_checkpoint(
    tmp_path: Path, target: tuple[mt.Sequential, optim.Adam]
) -> None:
    path = tmp_path / "foreign.npz"
    entries: dict[str, Any] = {"model/0.weight": np.zeros((4, 3))}
    np.savez(path, **entries)
    assert_unchanged_after_failed_load(path, target, ValueError, "corrupt or not.*meta")


def test_pickled_object_array_is_refused(
    checkpoint: Path, target: tuple[mt.Sequential, optim.Adam]
) -> None:
    with np.load(checkpoint) as archive:
        entries = {key: archive[key] for key in archive.files}
    entries["model/0.weight"] = np.array([{"payload": 1}, None], dtype=object)
    np.savez(checkpoint, **entries)
    assert_unchanged_after_failed_load(checkpoint, target, ValueError, "pickle")


def test_newer_format_version_is_refused(
    checkpoint: Path, target: tuple[mt.Sequential, optim.Adam]
) -> None:
    with np.load(checkpoint) as archive:
        entries = {key: archive[key] for key in archive.files}
    entries["meta"] = np.array(
        '{"format": "minitorch_rnn", "format_version": 99, "model_class": "Sequential"}'
    )
    np.savez(checkpoint, **entries)
    assert_unchanged_after_failed_load(checkpoint, target, ValueError, "version 99")


# -- mismatches --------------------------------------------------------------------------------


def rewrite(path: Path, edit: Any) -> None:
    with np.load(path) as archive:
        entries = {key: archive[key] for key in archive.files}
    edit(entries)
    np.savez(path, **entries)


def test_missing_model_key_is_named(
    checkpoint: Path, target: tuple[mt.Sequential, optim.Adam]
) -> None:
    rewrite(checkpoint, lambda e: e.pop("model/2.bias"))
    assert_unchanged_after_failed_load(checkpoint, target, ValueError, r"missing keys \['2.bias'\]")


def test_unexpected_model_key_is_named(
    checkpoint: Path, target: tuple[mt.Sequential, optim.Adam]
) -> None:
    rewrite(checkpoint, lambda e: e.update({"model/4.weight": np.zeros(2)}))
    assert_unchanged_after_failed_load(
        checkpoint, target, ValueError, r"unexpected keys \['4.weight'\]"
    )


def test_unexpected_top_level_entry_is_named(
    checkpoint: Path, target: tuple[mt.Sequential, optim.Adam]
) -> None:
    rewrite(checkpoint, lambda e: e.update({"scheduler": np.zeros(2)}))
    assert_unchanged_after_failed_load(checkpoint, target, ValueError, "scheduler")


def test_model_shape_mismatch_is_named_and_changes_nothing(
    checkpoint: Path,
) -> None:
    model = make_model(seed=10, hidden=5)
    optimizer = optim.Adam(model.parameters(), lr=0.5)
    # The optimizer state matches nothing either, so check the model alone first.
    before = model.state_dict()
    with pytest.raises(ValueError, match=r"0.weight.*shape"):
        load(checkpoint, model)
    assert_same(model.state_dict(), before)
    with pytest.raises(ValueError, match="shape"):
        load(checkpoint, model, optimizer)
    assert_same(model.state_dict(), before)


def test_optimizer_shape_mismatch_leaves_model_unchanged(
    checkpoint: Path, target: tuple[mt.Sequential, optim.Adam]
) -> None:
    rewrite(checkpoint, lambda e: e.update({"optimizer/state.0.exp_avg": np.zeros((3, 4))}))
    assert_unchanged_after_failed_load(checkpoint, target, ValueError, "state.0.exp_avg")


def test_non_finite_model_weight_leaves_optimizer_unchanged(
    checkpoint: Path, target: tuple[mt.Sequential, optim.Adam]
) -> None:
    rewrite(checkpoint, lambda e: e.update({"model/2.bias": np.array([np.nan, 0.0])}))
    assert_unchanged_after_failed_load(checkpoint, target, ValueError, "2.bias")


def test_optimizer_of_another_type_is_named(
    checkpoint: Path, target: tuple[mt.Sequential, optim.Adam]
) -> None:
    model, _ = target
    sgd = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    before = snapshot(model, sgd)
    with pytest.raises(ValueError, match="missing keys"):
        load(checkpoint, model, sgd)
    assert_same(snapshot(model, sgd), before)


def test_optimizer_requested_but_absent_is_a_value_error(
    tmp_path: Path, target: tuple[mt.Sequential, optim.Adam]
) -> None:
    path = tmp_path / "weights.npz"
    save(path, make_model())
    assert_unchanged_after_failed_load(path, target, ValueError, "no optimizer state")


def test_load_rejects_wrong_argument_types(checkpoint: Path) -> None:
    with pytest.raises(TypeError, match="Module"):
        load(checkpoint, object())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Optimizer"):
        load(checkpoint, make_model(), optimizer=object())  # type: ignore[arg-type]


# -- read_meta ---------------------------------------------------------------------------------


def test_read_meta_returns_meta_without_a_model(checkpoint: Path) -> None:
    meta = read_meta(checkpoint)
    assert meta["epoch"] == 2 and meta["model_class"] == "Sequential"


def test_read_meta_errors_match_load(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"absent\.npz"):
        read_meta(tmp_path / "absent.npz")
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"junk" * 100)
    with pytest.raises(ValueError, match="corrupt or not"):
        read_meta(junk)


# -- hostile files: bounded work before any ValueError -----------------------------------------


def npy_header(shape: tuple[int, ...], descr: str = "<f8") -> bytes:
    """An ``.npy`` header declaring ``shape`` (the data that follows is up to the caller)."""
    buffer = io.BytesIO()
    header = {"descr": descr, "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(buffer, header)  # type: ignore[no-untyped-call]
    return buffer.getvalue()


def add_member(path: Path, name: str, data: bytes) -> None:
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr(name, data)


def peak_memory_of(call: Any) -> int:
    """Peak bytes allocated (as traced by ``tracemalloc``) while ``call()`` runs."""
    tracemalloc.start()
    try:
        call()
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return peak


def deeply_nested_meta(depth: int) -> np.ndarray:
    nested = "[" * depth + "]" * depth
    return np.array(
        '{"format": "minitorch_rnn", "format_version": 1, "model_class": "Sequential", '
        f'"x": {nested}}}'
    )


def test_meta_nested_100000_levels_deep_is_a_value_error_not_a_recursion_error(
    checkpoint: Path, target: tuple[mt.Sequential, optim.Adam]
) -> None:
    rewrite(checkpoint, lambda e: e.update({"meta": deeply_nested_meta(100_000)}))
    assert_unchanged_after_failed_load(checkpoint, target, ValueError, "nested 100001 levels")
    with pytest.raises(ValueError, match="nested 100001 levels deep"):
        read_meta(checkpoint)


def test_meta_nested_moderately_still_loads(checkpoint: Path) -> None:
    rewrite(checkpoint, lambda e: e.update({"meta": deeply_nested_meta(20)}))
    assert read_meta(checkpoint)["x"] == [[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]


def test_brackets_inside_meta_strings_do_not_count_as_nesting(tmp_path: Path) -> None:
    path = tmp_path / "brackets.npz"
    save(path, make_model(), note="[" * 1000 + '\\"{' * 500)
    assert read_meta(path)["note"].startswith("[[[")


def test_member_declaring_trillions_of_floats_is_a_value_error_not_a_memory_error(
    checkpoint: Path, target: tuple[mt.Sequential, optim.Adam]
) -> None:
    add_member(checkpoint, "extra.npy", npy_header((4 * 10**12,)) + bytes(64))
    assert_unchanged_after_failed_load(checkpoint, target, ValueError, "extra")


def test_model_entry_declaring_a_huge_shape_is_refused_before_reading(
    checkpoint: Path, target: tuple[mt.Sequential, optim.Adam]
) -> None:
    rewrite(checkpoint, lambda e: e.pop("model/0.weight"))
    add_member(checkpoint, "model/0.weight.npy", npy_header((2 * 10**6, 10**6)) + bytes(64))
    assert_unchanged_after_failed_load(checkpoint, target, ValueError, "0.weight")


BOMB_BYTES = 40 * 2**20  # 40 MiB of zeros: about 40 KB deflated


@pytest.mark.parametrize(
    "name, shape",
    [
        ("extra.npy", (BOMB_BYTES // 8,)),  # an unexpected entry, honestly declared
        ("model/0.weight.npy", (4, 3)),  # the expected entry, with far more data than declared
        ("optimizer/state.0.junk.npy", (BOMB_BYTES // 8,)),  # optimiser state of a wrong shape
    ],
    ids=["unexpected-entry", "expected-entry-overlong", "optimizer-entry"],
)
def test_deflated_bomb_is_refused_without_being_decompressed(
    checkpoint: Path, target: tuple[mt.Sequential, optim.Adam], name: str, shape: tuple[int, ...]
) -> None:
    if name.startswith("model/"):
        rewrite(checkpoint, lambda e: e.pop("model/0.weight"))
    add_member(checkpoint, name, npy_header(shape) + bytes(BOMB_BYTES))
    assert checkpoint.stat().st_size < BOMB_BYTES // 100
    model, optimizer = target
    before = snapshot(model, optimizer)

    def failing_load() -> None:
        with pytest.raises(ValueError, match="load: "):
            load(checkpoint, model, optimizer)

    assert peak_memory_of(failing_load) < 4 * 2**20
    assert_same(snapshot(model, optimizer), before)


def test_unexpected_optimizer_state_entries_are_refused_unread(
    checkpoint: Path, target: tuple[mt.Sequential, optim.Adam]
) -> None:
    # of the right shape, so only the optimiser's own key check can refuse them
    rewrite(checkpoint, lambda e: e.update({"optimizer/state.0.extra": np.zeros((4, 3))}))
    assert_unchanged_after_failed_load(checkpoint, target, ValueError, "state.0.extra")


def test_optimizer_entries_are_not_read_when_no_optimizer_is_given(checkpoint: Path) -> None:
    add_member(
        checkpoint, "optimizer/state.0.junk.npy", npy_header((BOMB_BYTES // 8,)) + bytes(BOMB_BYTES)
    )
    model = make_model(seed=3)
    assert peak_memory_of(lambda: load(checkpoint, model)) < 4 * 2**20


def test_plain_text_file_is_said_to_be_text_not_pickled_data(
    tmp_path: Path, target: tuple[mt.Sequential, optim.Adam]
) -> None:
    path = tmp_path / "notes.npz"
    path.write_text("these are my notes, not a checkpoint\n", encoding="utf-8")
    model, optimizer = target
    with pytest.raises(ValueError, match=r"a text file, not an \.npz") as caught:
        load(path, model, optimizer)
    assert "pickle" not in str(caught.value)


def test_read_shapes_reads_the_weight_shapes_from_headers(checkpoint: Path) -> None:
    assert read_shapes(checkpoint) == {
        "0.weight": (4, 3),
        "0.bias": (4,),
        "2.weight": (2, 4),
        "2.bias": (2,),
    }


class _Delegating:
    """Not an ``mt.optim`` class: only the methods ``save`` and ``load`` need."""

    def __init__(self, optimizer: optim.Optimizer) -> None:
        self.inner = optimizer
        self.params = optimizer.params

    def state_dict(self) -> dict[str, np.ndarray]:
        return self.inner.state_dict()

    def validate_state_dict(self, state: Any) -> None:
        self.inner.validate_state_dict(state)

    def load_state_dict(self, state: Any) -> None:
        self.inner.load_state_dict(state)


def test_save_and_load_take_any_object_with_the_optimizer_methods(tmp_path: Path) -> None:
    model = make_model()
    trained = optim.Adam(model.parameters(), lr=0.01)
    train_steps(model, trained, 2)
    save(tmp_path / "ckpt.npz", model, optimizer=_Delegating(trained))
    target = make_model(seed=5)
    restored = optim.Adam(target.parameters(), lr=0.5)
    load(tmp_path / "ckpt.npz", target, optimizer=_Delegating(restored))
    expected, got = trained.state_dict(), restored.state_dict()
    assert set(got) == set(expected)
    assert all(np.array_equal(got[key], expected[key]) for key in expected)


def test_read_headers_lists_every_array_with_shape_and_dtype_without_reading_data(
    checkpoint: Path,
) -> None:
    headers = read_headers(checkpoint)
    assert headers["model/0.weight"] == ArrayInfo((4, 3), np.dtype(np.float32))
    assert headers["optimizer/state.0.exp_avg"].shape == (4, 3)
    assert "meta" not in headers
    # a weight of 40 MiB deflated to 40 KB: its header is read, its data never is
    rewrite(checkpoint, lambda e: e.pop("model/0.weight"))
    add_member(checkpoint, "model/0.weight.npy", npy_header((BOMB_BYTES // 8,)) + bytes(BOMB_BYTES))
    found: dict[str, ArrayInfo] = {}
    assert peak_memory_of(lambda: found.update(read_headers(checkpoint))) < 2**20
    assert found["model/0.weight"] == ArrayInfo((BOMB_BYTES // 8,), np.dtype(np.float64))
    assert read_shapes(checkpoint)["0.weight"] == (BOMB_BYTES // 8,)


# -- hostile meta: every check linear in the size of the file -------------------------------------


@pytest.mark.parametrize(
    ("escaped_quotes", "seconds"),
    # measured: 0.03 s and 1.1 s for one load on a busy 2-core machine (the old scan: over
    # 100 s for 2**16)
    [(2**16, 1.0), ((MAX_META_CHARS - 1) // 2, 20.0)],
)
def test_meta_of_escaped_quotes_is_refused_in_linear_time(
    tmp_path: Path, escaped_quotes: int, seconds: float
) -> None:
    # an unterminated JSON string of escaped quotes: a backtracking scan is quadratic in its
    # length (10 s for 2**16, hours at the 4 Mi-character limit); a linear one takes milliseconds
    path = tmp_path / "quotes.npz"
    np.savez_compressed(path, meta=np.array('"' + '\\"' * escaped_quotes))
    start = time.perf_counter()
    with pytest.raises(ValueError, match="not JSON"):
        load(path, make_model())
    with pytest.raises(ValueError, match="not JSON"):
        read_meta(path)
    assert time.perf_counter() - start < seconds


def test_depth_of_escaped_quotes_and_backslashes_is_counted_outside_strings_only(
    tmp_path: Path,
) -> None:
    path = tmp_path / "escapes.npz"
    note = '\\"[' * 100 + "\\\\" + '"{' * 100
    save(path, make_model(), note=note, nested=[[["ok"]]])
    meta = read_meta(path)
    assert meta["note"] == note and meta["nested"] == [[["ok"]]]


# -- values a float32 model cannot hold ----------------------------------------------------------


def test_float64_weights_that_overflow_float32_are_refused_and_change_nothing(
    tmp_path: Path, target: tuple[mt.Sequential, optim.Adam]
) -> None:
    wide = make_model(dtype=np.float64)
    dict(wide.named_parameters())["2.bias"].data[...] = 1e300
    path = tmp_path / "wide.npz"
    save(path, wide)
    model, _ = target
    before = model.state_dict()
    with pytest.raises(mt.NonFiniteValueError, match=r"2\.bias.*float32"):
        load(path, model)
    assert_same(model.state_dict(), before)


def test_float64_optimizer_state_that_overflows_float32_is_refused_and_changes_nothing(
    tmp_path: Path, target: tuple[mt.Sequential, optim.Adam]
) -> None:
    wide = make_model(dtype=np.float64)
    wide_optimizer = optim.Adam(wide.parameters(), lr=0.01)
    train_steps(wide, wide_optimizer, 1)
    path = tmp_path / "wide.npz"
    save(path, wide, wide_optimizer)
    rewrite(path, lambda e: e["optimizer/state.1.exp_avg_sq"].fill(1e300))
    assert_unchanged_after_failed_load(
        path, target, mt.NonFiniteValueError, r"state\.1\.exp_avg_sq.*float32"
    )


# -- save refuses what load would refuse, before touching the file -------------------------------


def assert_refused_before_writing(path: Path, error: type, message: str, **meta: Any) -> None:
    previous = path.read_bytes()
    with pytest.raises(error, match=message):
        save(path, make_model(seed=9), **meta)
    assert os.listdir(path.parent) == [path.name]
    assert path.read_bytes() == previous


def test_save_refuses_meta_nested_deeper_than_load_reads(checkpoint: Path) -> None:
    nested: Any = []
    for _ in range(70):
        nested = [nested]
    assert_refused_before_writing(checkpoint, ValueError, "nested 72 levels", deep=nested)
    save(checkpoint, make_model(), shallow=[[[]]])  # the limit is load's, not lower


def test_save_refuses_meta_longer_than_load_reads(checkpoint: Path) -> None:
    assert_refused_before_writing(checkpoint, ValueError, "characters", text="x" * MAX_META_CHARS)


def test_save_refuses_non_finite_weights_that_load_would_refuse(checkpoint: Path) -> None:
    previous = checkpoint.read_bytes()
    model = make_model()
    dict(model.named_parameters())["0.bias"].data[1] = np.nan
    with pytest.raises(mt.NonFiniteValueError, match=r"0\.bias"):
        save(checkpoint, model)
    assert os.listdir(checkpoint.parent) == [checkpoint.name]
    assert checkpoint.read_bytes() == previous


def test_save_stores_the_model_config_in_the_meta_and_reserves_its_name(tmp_path: Path) -> None:
    path = tmp_path / "model.npz"
    model = make_model()
    save(path, model, epoch=2)
    meta = read_meta(path)
    assert meta["config"] == model.config() and meta["epoch"] == 2
    with pytest.raises(ValueError, match=r"meta names \['config'\] are reserved"):
        save(tmp_path / "other.npz", model, config={"class": "Tanh"})
    assert not (tmp_path / "other.npz").exists()
