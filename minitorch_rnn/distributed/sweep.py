"""Parallel sweeps: a training function over a grid of configurations × seeds, as Ray Tune trials.

Ray Tune does the scheduling: its grid search makes one trial per point and seed and runs as many
at a time as allowed, without retries (a failing trial fails the sweep once the others are done).
This module only validates the grid and turns Tune's results into one plain row per trial, in
grid order.
"""

from __future__ import annotations

import itertools
import math
import tempfile
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..validation import check_size, is_int
from .connect import connect

__all__ = ["SweepError", "sweep"]

_OWNER = "sweep"
_SEED = "seed"


class SweepError(RuntimeError):
    """A trial of a sweep raised; the message names its configuration and the error."""


def sweep(
    trial: Callable[[dict[str, Any]], Mapping[str, Any]],
    grid: Mapping[str, Sequence[Any]],
    seeds: Sequence[int] = (0,),
    *,
    num_workers: int | None = None,
    address: str | None = None,
    cpus_per_trial: float = 1.0,
) -> list[dict[str, Any]]:
    """Run ``trial(config)`` for every point of ``grid`` and every seed, in parallel on Ray Tune.

    Parameters
    ----------
    trial : callable
        ``trial(config) -> mapping`` where ``config`` holds one value of every grid key and
        ``"seed"``; the mapping's values (numbers, strings, bools) are the trial's results. It
        runs in a Ray worker process, so it must be picklable (a module-level function) and the
        project must be installed wherever the workers run.
    grid : mapping of str to sequence
        The values of each hyper-parameter; the sweep covers their Cartesian product.
    seeds : sequence of int
        Every grid point runs once per seed.
    num_workers : int, optional
        Trials running at the same time; default: as many as the Ray cluster has CPUs (divided by
        ``cpus_per_trial``).
    address : str, optional
        ``None``: the Ray this process is connected to, or as ``ray.init()`` (usually a new
        local one); an address joins a running cluster (see
        :class:`~minitorch_rnn.distributed.RayStrategy`).
    cpus_per_trial : float
        CPUs Ray reserves for each trial.

    Returns
    -------
    list of dict
        One row per trial, in grid order (the first grid key varies slowest, seeds fastest): the
        configuration followed by the trial's results.

    Raises
    ------
    SweepError
        If any trial raised (after the others finished), naming its configuration.

    Examples
    --------
    >>> def trial(config):  # doctest: +SKIP
    ...     return {"score": config["width"] * 10 + config["seed"]}
    >>> sweep(trial, {"width": [1, 2]}, seeds=[0, 1], num_workers=2)  # doctest: +SKIP
    [{'width': 1, 'seed': 0, 'score': 10}, {'width': 1, 'seed': 1, 'score': 11}, ...]
    """
    points = _grid_points(grid, seeds)
    if not callable(trial):
        raise TypeError(f"{_OWNER}: trial must be callable, got {type(trial).__name__}")
    if num_workers is not None:
        num_workers = check_size(num_workers, _OWNER, "num_workers")
    if not isinstance(cpus_per_trial, (int, float)) or not (
        math.isfinite(cpus_per_trial) and cpus_per_trial > 0
    ):
        raise ValueError(
            f"{_OWNER}: cpus_per_trial must be a positive number, got {cpus_per_trial!r}"
        )
    connect(address, _OWNER)
    from ray import tune

    param_space = {key: tune.grid_search(list(values)) for key, values in grid.items()}
    param_space[_SEED] = tune.grid_search([int(seed) for seed in seeds])
    with tempfile.TemporaryDirectory(prefix="minitorch-sweep-") as storage:
        tuner = tune.Tuner(
            tune.with_resources(_reporting(trial), {"cpu": cpus_per_trial}),
            param_space=param_space,
            # reuse_actors: one process serves trial after trial, instead of paying a process
            # start and the imports for each (seconds per trial on a busy machine)
            tune_config=tune.TuneConfig(max_concurrent_trials=num_workers, reuse_actors=True),
            run_config=tune.RunConfig(storage_path=storage, name="sweep", verbose=0),
        )
        results = tuner.fit()
    by_config: dict[tuple[Any, ...], dict[str, Any]] = {}
    failures = []
    for index in range(len(results)):  # a ResultGrid is indexable, not iterable
        result = results[index]
        config = {key: (result.config or {})[key] for key in (*grid, _SEED)}
        if result.error is not None:
            failures.append(f"{config}: {_last_line(result.error)}")
            continue
        by_config[_key(config)] = {**config, **(result.metrics or {}).get(_RESULTS_KEY, {})}
    if failures:
        raise SweepError(
            f"{_OWNER}: {len(failures)} of {len(points)} trials failed; first: {failures[0]}"
        )
    return [by_config[_key(point)] for point in points]


_RESULTS_KEY = "trial_results"


def _reporting(
    trial: Callable[[dict[str, Any]], Mapping[str, Any]],
) -> Callable[[dict[str, Any]], None]:
    """The Tune trainable: run the user's trial and report its mapping under one key, apart from
    the bookkeeping Tune adds to every result."""

    def run_trial(config: dict[str, Any]) -> None:
        from ray import tune

        outcome = trial(dict(config))
        if not isinstance(outcome, Mapping):
            raise TypeError(
                f"{_OWNER}: the trial must return a mapping of results, got "
                f"{type(outcome).__name__}"
            )
        tune.report({_RESULTS_KEY: dict(outcome)})

    return run_trial


def _grid_points(grid: Mapping[str, Sequence[Any]], seeds: Sequence[int]) -> list[dict[str, Any]]:
    """Every configuration in grid order; validates the grid and the seeds."""
    if not isinstance(grid, Mapping) or not grid:
        raise ValueError(
            f"{_OWNER}: grid must be a non-empty mapping of name -> values, got {grid!r}"
        )
    for key, values in grid.items():
        if not isinstance(key, str) or key == _SEED:
            raise ValueError(f"{_OWNER}: grid keys must be strings other than 'seed', got {key!r}")
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
            raise ValueError(f"{_OWNER}: grid[{key!r}] must be a non-empty list, got {values!r}")
        if len({repr(value) for value in values}) != len(values):
            raise ValueError(f"{_OWNER}: grid[{key!r}] repeats a value: {list(values)!r}")
    seed_list = list(seeds) if isinstance(seeds, Sequence) else []
    if not seed_list or not all(is_int(seed) for seed in seed_list):
        raise ValueError(f"{_OWNER}: seeds must be a non-empty list of ints, got {seeds!r}")
    if len(set(seed_list)) != len(seed_list):
        raise ValueError(f"{_OWNER}: seeds repeat a value: {seed_list!r}")
    keys = list(grid)
    return [
        dict(zip((*keys, _SEED), (*values, int(seed)), strict=True))
        for *values, seed in itertools.product(*(grid[key] for key in keys), seed_list)
    ]


def _key(config: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(repr(value) for value in config.values())


def _last_line(error: BaseException) -> str:
    """The message of a remote error (Ray puts the remote traceback before it)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[-1] if lines else type(error).__name__
