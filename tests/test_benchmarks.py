"""The benchmark instrument: its quick run, its reference code and its arithmetic (no timings)."""

from __future__ import annotations

import importlib.util
import json
import math
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import minitorch_rnn as mt

if (
    importlib.util.find_spec("benchmarks") is None
):  # plain `pytest` does not put the root on sys.path
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import seed_reference
from benchmarks.blas_env import (
    FORCING_VARIABLES,
    REMOVED_MARKER,
    forced_kernel,
    own_kernel_environment,
)
from benchmarks.configs import CELLS, VOCAB, Shape, parse_shape
from benchmarks.environment import kernel_line
from benchmarks.flops import flops_per_token
from benchmarks.memory import traced_peak_bytes
from benchmarks.ours import build_model, ours_workload
from benchmarks.run import main
from benchmarks.scaling import loglog_exponent
from benchmarks.seed_side import fresh_process_tokens_per_s
from benchmarks.targets import evaluate_targets
from benchmarks.timing import Contender, Timings, interleave
from benchmarks.trees import compare_trees, parse_tree
from benchmarks.workload import make_batch


def _positive(value: object) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value) and value > 0


# -- the quick run -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def quick_results(tmp_path_factory: pytest.TempPathFactory) -> dict:
    path = tmp_path_factory.mktemp("bench") / "quick.json"
    assert main(["--quick", "--no-torch", "--no-png", "--json", str(path)]) == 0
    return json.loads(path.read_text(encoding="utf-8"))


def test_quick_run_writes_json_with_every_section(quick_results: dict) -> None:
    for key in ("environment", "gemm", "throughput", "memory", "parity", "targets", "skipped"):
        assert key in quick_results
    assert quick_results["mode"] == "quick"
    assert quick_results["environment"]["numpy"] == np.__version__


def test_quick_run_measures_every_cell_shape_and_mode_with_positive_rates(
    quick_results: dict,
) -> None:
    rows = quick_results["throughput"]
    shapes = quick_results["plan"]["shapes"]
    assert {(r["key"], r["cell"], r["mode"]) for r in rows} == {
        (key, cell, mode) for key in shapes for cell in CELLS for mode in ("train", "infer")
    }
    for row in rows:
        assert _positive(row["tokens_per_s"]["ours"])
        assert _positive(row["tokens_per_s"]["seed"])
        assert "torch" not in row["tokens_per_s"]  # --no-torch
        for key in ("median", "min", "max"):
            assert _positive(row["ratio_to"]["seed"][key])
        assert row["ratio_to"]["seed"]["min"] <= row["ratio_to"]["seed"]["median"]
        assert _positive(row["flops_per_token"]) and _positive(row["gflops"]["ours"])


def test_quick_run_reports_gemm_rates_memory_and_skipped_targets(quick_results: dict) -> None:
    assert all(_positive(entry["gflops"]) for entry in quick_results["gemm"])
    assert {entry["dtype"] for entry in quick_results["gemm"]} == {"float32", "float64"}
    assert quick_results["memory"] and all(
        _positive(entry["ours"]["traced_mib"]) for entry in quick_results["memory"]
    )
    assert any("torch" in note for note in quick_results["skipped"])
    # the targets concern the --full shapes, so a quick run can only skip them
    assert {target["status"] for target in quick_results["targets"]} == {"SKIP"}


def test_quick_run_prints_tables_and_target_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--quick", "--no-torch", "--no-seed", "--no-png", "--only", "rnn"]
    main([*argv, "--configs", "2/3/4", "--json", str(tmp_path / "r.json")])
    out = capsys.readouterr().out
    assert "Training (tokens/s" in out and "Inference (tokens/s" in out
    assert "SKIP  training >= 1.0x PyTorch" in out
    rows = json.loads((tmp_path / "r.json").read_text())["throughput"]
    assert [(r["key"], r["cell"]) for r in rows] == [("2/3/4/float32", "rnn")] * 2


def test_cli_rejects_an_unknown_cell_and_a_malformed_shape() -> None:
    with pytest.raises(SystemExit) as unknown_cell:
        main(["--quick", "--only", "transformer"])
    with pytest.raises(SystemExit) as bad_shape:
        main(["--quick", "--configs", "64x50x256"])
    assert unknown_cell.value.code == 2 and bad_shape.value.code == 2


def test_torch_side_computes_the_same_loss_as_ours_from_the_same_weights() -> None:
    torch = pytest.importorskip("torch")
    from benchmarks.torch_side import torch_workload

    shape = Shape(3, 4, 5)
    batch = make_batch(shape)
    for cell in CELLS:
        model = build_model(cell, shape)
        ours = ours_workload(model, batch)
        theirs = torch_workload(torch, cell, shape, batch, model)
        assert theirs.loss() == pytest.approx(ours.loss(), rel=1e-5)


# -- the seed-style reference --------------------------------------------------------------------


def _document_gradients(kind: str, model: mt.Sequential) -> dict[str, np.ndarray]:
    """Our gradients in the textbook layout: convert a copy whose weights are the gradients.

    The textbook cells have one bias where we have two whose sum acts, so the gradient of that bias
    equals the gradient of either of ours: zero ``bias_hh`` before the conversion sums them.
    """
    for parameter in model.parameters():
        parameter.data = parameter.grad.copy()
    unroll = model[0]
    assert isinstance(unroll, mt.Unroll) and unroll.cell.bias_hh is not None
    unroll.cell.bias_hh.data[...] = 0
    return seed_reference.parameters_from_model(kind, model)


@pytest.mark.parametrize("kind", ["rnn", "gru", "lstm"])
def test_seed_reference_loss_and_gradients_equal_the_frameworks(kind: str) -> None:
    hidden, steps = 5, 4
    cells = {
        "rnn": lambda: mt.RNNCell(VOCAB, hidden, seed=3, dtype="float64"),
        "gru": lambda: mt.GRUCell(VOCAB, hidden, reset_after=False, seed=3, dtype="float64"),
        "lstm": lambda: mt.LSTMCell(VOCAB, hidden, seed=3, dtype="float64"),
    }
    model = mt.Sequential(
        mt.Unroll(cells[kind]()), mt.Dense(hidden, VOCAB, seed=4, dtype="float64")
    )
    ids = np.random.default_rng(5).integers(0, VOCAB, size=steps + 1)
    inputs, targets = ids[:-1].tolist(), ids[1:].tolist()

    parameters = seed_reference.parameters_from_model(kind, model)
    loss, gradients = seed_reference.sequence_loss_and_gradients(kind, parameters, inputs, targets)

    criterion = mt.CrossEntropyLoss(reduction="sum")  # the textbook code sums the loss over time
    one_hot = np.eye(VOCAB)[ids[None, :-1]]
    our_loss = criterion.forward(model.forward(one_hot), ids[None, 1:])
    model.backward(criterion.backward())
    expected = _document_gradients(kind, model)

    assert loss == pytest.approx(our_loss, rel=1e-12)
    assert set(gradients) == {"d" + name for name in expected}
    for name, value in expected.items():
        np.testing.assert_allclose(gradients["d" + name], value, rtol=1e-9, atol=1e-12)


def test_seed_reference_is_also_timed_in_a_fresh_process() -> None:
    rate = fresh_process_tokens_per_s("rnn", Shape(2, 3, 4), 2, "train", 0.0, 1)
    assert _positive(rate)


def test_seed_reference_training_step_moves_weights_against_the_gradient() -> None:
    parameters = seed_reference.initialize_parameters("lstm", VOCAB, 4, VOCAB)
    before = {name: value.copy() for name, value in parameters.items()}
    _, gradients = seed_reference.sequence_loss_and_gradients("lstm", before, [1, 2, 3], [2, 3, 4])
    seed_reference.train_on_sample("lstm", parameters, [1, 2, 3], [2, 3, 4], lr=0.5)
    for name, value in parameters.items():
        np.testing.assert_allclose(value, before[name] - 0.5 * gradients["d" + name])


# -- arithmetic, fitting, timing bookkeeping, targets ---------------------------------------------


def test_flops_per_token_matches_the_documented_lstm_figure() -> None:
    # PERFORMANCE.md: LSTM training at hidden 256 costs about 2.07 MFLOP per token
    assert flops_per_token("lstm", 65, 256, 65, training=True) == pytest.approx(2.07e6, rel=0.01)
    assert flops_per_token("rnn", 65, 256, 65, training=False) == 2 * 321 * 256 + 2 * 256 * 65


def test_loglog_exponent_recovers_a_power_law() -> None:
    sizes = [64, 128, 256, 512]
    assert loglog_exponent(sizes, [3e-9 * s**2 for s in sizes]) == pytest.approx(2.0)
    assert loglog_exponent(sizes, [1e-3 * s for s in sizes]) == pytest.approx(1.0)


def test_parse_shape_reads_both_spellings_and_rejects_nonsense() -> None:
    assert parse_shape("64/50/256") == Shape(64, 50, 256, "float32")
    assert parse_shape("64/50/256/float64").key == "64/50/256/float64"
    for text in ("64/50", "64/50/0", "a/b/c", "1/2/3/float16"):
        with pytest.raises(ValueError, match="configs"):
            parse_shape(text)


def test_interleave_alternates_the_order_of_contenders_between_rounds() -> None:
    calls: list[str] = []

    def recorder(name: str) -> Callable[[], None]:
        return lambda: calls.append(name)

    contenders = [Contender(name, recorder(name), 1) for name in "ab"]
    timings = interleave(contenders, repeats=4, min_time=0.0)
    # each contender: a warm-up and a sizing call; then per block one settle and one timed call
    blocks = calls[4::2]
    assert calls[4:] == [name for name in blocks for _ in range(2)]
    assert blocks == ["a", "b", "b", "a", "a", "b", "b", "a"]
    assert all(len(seconds) == 4 for seconds in timings.seconds.values())


def test_timings_ratios_are_per_round_throughput_ratios() -> None:
    timings = Timings(
        seconds={"ours": [1.0, 2.0], "torch": [2.0, 2.0]},
        tokens={"ours": 10, "torch": 10},
        calls={},
    )
    assert timings.ratios("ours", "torch") == [2.0, 1.0]
    assert timings.tokens_per_second("ours") == pytest.approx(10 / 1.5)


def test_targets_pass_miss_and_skip_on_synthetic_results() -> None:
    def row(cell: str, median: float) -> dict:
        ratio = {"median": median, "min": median, "max": median}
        return {
            "key": "64/50/256/float32",
            "cell": cell,
            "mode": "train",
            "ratio_to": {"torch": ratio},
        }

    targets = evaluate_targets([row("rnn", 1.2), row("gru", 0.9)], memory=[])
    status = {target["name"]: target["status"] for target in targets}
    assert status["training >= 1.0x PyTorch, RNN at B64 T50 H256 f32"] == "PASS"
    assert status["training >= 1.0x PyTorch, GRU at B64 T50 H256 f32"] == "MISS"
    assert status["training >= 1.0x PyTorch, LSTM at B64 T50 H256 f32"] == "SKIP"


def test_traced_peak_counts_an_array_allocated_during_the_call() -> None:
    assert traced_peak_bytes(lambda: np.ones(1_000_000)) >= 8_000_000


# -- the BLAS kernel: the forcing variables leave the benchmark's own process only ---------------

FORCED = {"OPENBLAS_CORETYPE": "Haswell", "OPENBLAS_L2_SIZE": "512", "HOME": "/home/x"}


def test_forcing_variables_are_removed_in_place_before_numpy_loads() -> None:
    environ = dict(FORCED)
    calls: list[object] = []
    removed = own_kernel_environment(
        ["--quick"], environ, numpy_loaded=False, execve=lambda *a: calls.append(a)
    )
    assert removed == "OPENBLAS_CORETYPE=Haswell;OPENBLAS_L2_SIZE=512"
    assert environ == {"HOME": "/home/x", REMOVED_MARKER: removed}
    assert calls == []


def test_a_process_that_already_loaded_numpy_re_executes_itself_without_them() -> None:
    environ = dict(FORCED)
    calls: list[tuple[str, list[str], dict[str, str]]] = []
    own_kernel_environment(
        ["--quick", "--no-torch"], environ, numpy_loaded=True, execve=lambda *a: calls.append(a)
    )
    ((program, argv, child_environ),) = calls
    assert program == sys.executable
    assert argv == [sys.executable, "-m", "benchmarks", "--quick", "--no-torch"]
    assert child_environ == {
        "HOME": "/home/x",
        REMOVED_MARKER: "OPENBLAS_CORETYPE=Haswell;OPENBLAS_L2_SIZE=512",
    }
    assert environ == FORCED  # the parent's own environment is left alone


def test_without_forcing_variables_nothing_happens_and_a_re_executed_child_never_loops() -> None:
    calls: list[object] = []

    def record(*args: object) -> None:
        calls.append(args)

    assert own_kernel_environment([], {"HOME": "/h"}, numpy_loaded=True, execve=record) == ""
    child = {"HOME": "/h", REMOVED_MARKER: "OPENBLAS_CORETYPE=Haswell"}
    assert own_kernel_environment([], child, numpy_loaded=True, execve=record) == (
        "OPENBLAS_CORETYPE=Haswell"
    )
    # set again after a re-execution: left in place (and reported as forcing), no second exec
    again = {**child, "OPENBLAS_CORETYPE": "Haswell"}
    assert own_kernel_environment([], again, numpy_loaded=True, execve=record) == ""
    assert calls == [] and forced_kernel(again) == "OPENBLAS_CORETYPE=Haswell"


def test_kernel_line_says_when_a_forced_kernel_is_in_effect() -> None:
    pools = [{"user_api": "blas", "architecture": "Haswell"}]
    forced = kernel_line(
        {"thread_pools": pools, "cpu_vector_extensions": "AVX-512", "blas_variables_forcing": "X=1"}
    )
    own = kernel_line(
        {"thread_pools": pools, "cpu_vector_extensions": "AVX2", "blas_variables_removed": "X=1"}
    )
    assert "FORCED by X=1" in forced and "AVX-512" in forced
    assert "own choice" in own and "removed from this process's environment: X=1" in own


def _run_benchmarks(code: str, environ: dict[str, str]) -> str:
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**environ, "PYTHONPATH": str(root)},
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return result.stdout


QUICK_ARGS = "['--quick', '--no-torch', '--no-seed', '--no-breakdown', '--no-sampling', '--only', 'rnn', '--configs', '2/3/4', '--no-png', '--json', {json!r}]"


@pytest.mark.parametrize("keep", [False, True])
def test_benchmark_process_with_numpy_loaded_re_executes_and_reports_its_kernel(
    tmp_path: Path, keep: bool
) -> None:
    args = QUICK_ARGS.format(json=str(tmp_path / "r.json"))
    if keep:
        args = args.replace("['--quick'", "['--keep-blas-env', '--quick'")
    code = (
        "import runpy, sys, numpy\n"  # numpy loaded first: only a re-execution can help
        f"sys.argv = ['benchmarks', *{args}]\n"
        "runpy.run_module('benchmarks', run_name='__main__')\n"
    )
    environ = {key: value for key, value in os.environ.items() if key not in FORCING_VARIABLES}
    out = _run_benchmarks(code, {**environ, "OPENBLAS_CORETYPE": "Haswell"})
    kernel = [line for line in out.splitlines() if line.startswith("BLAS kernel:")]
    assert len(kernel) == 2  # in the header and at the end of the report
    environment = json.loads((tmp_path / "r.json").read_text())["environment"]
    if keep:
        assert "FORCED by OPENBLAS_CORETYPE=Haswell" in kernel[0]
        assert environment["blas_variables_forcing"] == "OPENBLAS_CORETYPE=Haswell"
    else:
        assert "removed from this process's environment: OPENBLAS_CORETYPE=Haswell" in kernel[0]
        assert environment["blas_variables_forcing"] == ""


# -- the other sections of a run -------------------------------------------------------------


def test_quick_run_reports_the_breakdown_sampling_and_eval_memory(quick_results: dict) -> None:
    parts = ("total", "projection", "gemm", "elementwise", "copies_other")
    assert {entry["cell"] for entry in quick_results["breakdown"]} == set(CELLS)
    for entry in quick_results["breakdown"]:
        assert all(math.isfinite(entry["ms"][part]) for part in parts)
        assert _positive(entry["ms"]["total"]) and _positive(entry["ms"]["gemm"])
    assert _positive(quick_results["sampling"]["tokens_per_s"]["ours"])
    assert re.fullmatch(
        r"B1 [\d,]+ tok/s, B64 [\d,]+ tok/s \(.*\)", quick_results["sampling"]["seq2seq"]
    )
    peaks = quick_results["eval_memory"]["peaks"]
    assert set(peaks) == {"20", "200"} and all(_positive(p["peak_mib"]) for p in peaks.values())


def test_trees_alternate_their_order_and_report_time_ratios_to_the_first() -> None:
    calls: list[str] = []
    times = {"a": 2.0, "b": 1.0}

    def timer(root: Path, workload: str, shape: object, count: int) -> float:
        calls.append(root.name)
        return times[root.name]

    result = compare_trees(
        [("before", Path("a")), ("after", Path("b"))], "train", (2, 3, 4), 4, 1, timer=timer
    )
    assert calls == ["a", "b", "b", "a", "a", "b", "b", "a"]
    assert result["time_ratio_to_first"]["after"] == {"median": 0.5, "min": 0.5, "max": 0.5}


def test_tree_child_times_this_tree_in_a_child_process() -> None:
    root = Path(__file__).resolve().parents[1]
    name, path = parse_tree(f"here={root}")
    result = compare_trees([(name, path), ("again", path)], "infer", (2, 3, 4), 1, 1)
    assert all(_positive(values[0]) for values in result["seconds"].values())
    with pytest.raises(ValueError, match="no minitorch_rnn package"):
        parse_tree(f"x={root / 'docs'}")


def test_markdown_tables_have_one_row_per_measurement(quick_results: dict) -> None:
    from benchmarks.markdown import breakdown_table, throughput_markdown

    train = throughput_markdown(quick_results["throughput"], "train")
    parts = breakdown_table(quick_results["breakdown"])
    assert len(train) == 2 + len(quick_results["throughput"]) // 2
    assert len(parts) == 2 + len(quick_results["breakdown"])
    assert all(line.count("|") == train[0].count("|") for line in train)
