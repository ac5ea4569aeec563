"""Sweeps: the grid, records equal to single runs, placement independence (threads, processes,
a Dask cluster), result files, resume after a torn write, failures recorded."""
import concurrent.futures
import math
import os
import sys

import numpy as np
import pytest

import fastinit
from fastinit import propagation
from fastinit import sweep as sweeps
from fastinit.sweep import runner
from conftest import same_records
from fastinit.sweep import Config


SMALL = dict(init=["lecun_normal", "normal:std=0.01|1"], activation=["tanh", "relu"], depth=3,
             width=[16, 24], batch=40, seeds=2)


def test_grid_expands_every_combination_in_order():
    configs = sweeps.grid(**SMALL)
    assert len(configs) == 3 * 2 * 2 * 2
    assert configs[0] == Config("lecun_normal", "tanh", 3, 16, 40, "float64", 0, 0.0)
    assert configs[1].seed == 1 and configs[2].width == 24
    assert {c.init for c in configs} == {"lecun_normal", "normal:std=0.01", "normal:std=1"}
    assert len(set(configs)) == len(configs)


@pytest.mark.parametrize("kwargs, match", [
    (dict(init="nope"), "unknown initializer"),
    (dict(init="normal:std"), "KEY=VALUE"),
    (dict(init="normal:stdev=1"), "stdev"),
    (dict(init="he_normal", activation="swish"), "unknown activation"),
    (dict(init="he_normal", depth=0), "depth"),
    (dict(init="he_normal", width=[]), "width is empty"),
    (dict(init="he_normal", dtype="float16"), "dtype"),
    (dict(init="he_normal", seeds=0), "seeds"),
    (dict(init="he_normal", bias=float("nan")), "bias"),
])
def test_grid_rejects_bad_values_naming_them(kwargs, match):
    with pytest.raises(ValueError, match=match):
        sweeps.grid(**kwargs)


def test_records_are_the_single_runs():
    result = sweeps.sweep(**SMALL, num_threads=1)
    assert len(result) == 24 * 3 and not result.failed
    for config in sweeps.grid(**SMALL)[::5]:
        run = fastinit.forward_prop([config.width] * config.depth,
                                    _initializer(config.init),
                                    activation=config.activation, batch=config.batch,
                                    rng=config.seed, keep_activations=False)
        rows = [r for r in result.records if Config.from_record(r) == config]
        assert [r["layer"] for r in rows] == [1, 2, 3]
        for row, layer in zip(rows, run.layers):
            assert (row["mean"], row["std"], row["max"]) == (layer.mean, layer.std, layer.max)


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_seed_groups_in_one_call_are_the_per_network_path_bit_for_bit(threads):
    # a chunk mixing networks that run together (same layout, many seeds) and ones that cannot
    # (relu: its histogram range is the data's; a failing law; a bias initializer)
    configs = [*sweeps.grid(init=["lecun_normal", "uniform:low=-0.4,high=0.3", "orthogonal"],
                            activation=["tanh", "sigmoid", "relu"], depth=3, width=12,
                            batch=9, dtype=["float64", "float32"], seeds=5),
               *sweeps.grid(init="normal:std=-1", depth=2, width=4, batch=3, seeds=2),
               *sweeps.grid(init="he_normal", bias="normal:std=0.1", depth=2, width=6, batch=4,
                            seeds=3)]
    options = dict(num_threads=threads, histograms=True, bins=6, backward=False)
    calls = []
    original = propagation._FusedNetwork.run_seeds_totals
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(propagation._FusedNetwork, "run_seeds_totals",
                      lambda self, seeds, n: calls.append(len(seeds)) or original(self, seeds, n))
        chunk = runner.run_chunk(configs, options)
    # lecun/uniform/orthogonal x tanh/sigmoid x two dtypes, 5 seeds each
    assert sorted(calls) == [5] * 12
    assert [config for config, _ in chunk] == configs
    for config, records in chunk:
        same_records(records, sweeps.run_config(config, **options))


def _initializer(spec):
    name, _, rest = spec.partition(":")
    params = dict(item.split("=") for item in rest.split(",") if item)
    return fastinit.get_initializer(name, **{k: float(v) for k, v in params.items()})


def test_same_records_on_any_thread_count_and_in_a_process_pool():
    one = sweeps.sweep(**SMALL, num_threads=1)
    two = sweeps.sweep(**SMALL, num_threads=2)
    same_records(one.records, two.records)
    with concurrent.futures.ProcessPoolExecutor(2) as pool:
        pooled = sweeps.sweep(**SMALL, executor=pool, chunk_size=5)
    same_records(one.records, pooled.records)


def test_large_configurations_run_on_the_engine_threads_with_the_same_records(monkeypatch):
    configs = sweeps.grid("he_normal", activation="relu", depth=2, width=32, batch=20, seeds=3)
    small = sweeps.sweep(configs, num_threads=2)
    monkeypatch.setattr(runner, "SMALL_LAYER_FLOPS", 0)  # everything counts as large
    large = sweeps.sweep(configs, num_threads=2)
    same_records(small.records, large.records)


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_file_reads_back_bit_identical(tmp_path, suffix):
    path = tmp_path / f"out{suffix}"
    result = sweeps.sweep(**SMALL, out=path, histograms=(suffix == ".jsonl"))
    same_records(sweeps.read_records(path), result.records)
    path2 = tmp_path / f"again{suffix}"
    getattr(result, "to_" + suffix[1:])(path2)
    same_records(sweeps.read_records(path2), result.records)


def test_csv_has_the_documented_columns(tmp_path):
    path = tmp_path / "out.csv"
    sweeps.sweep(init="he_normal", depth=2, width=8, batch=4, out=path)
    header = path.read_text().splitlines()[0].split(",")
    assert header[:14] == ["init", "activation", "depth", "width", "batch", "dtype", "seed",
                           "layer", "mean", "std", "min", "max", "saturated", "dead"]


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
@pytest.mark.parametrize("histograms", [False, True], ids=["plain", "histograms"])
def test_resume_repairs_a_torn_file_and_runs_only_what_is_missing(tmp_path, suffix,
                                                                  histograms):
    path = tmp_path / f"out{suffix}"
    full = sweeps.sweep(**SMALL, out=path, histograms=histograms)
    lines = path.read_text().splitlines(keepends=True)
    # keep the header and the first 10 rows, then half of the 11th: a write cut by a kill
    header = 1 if suffix == ".csv" else 0
    path.write_text("".join(lines[:header + 10]) + lines[header + 10][:17])
    resumed = sweeps.sweep(**SMALL, out=path, resume=True, histograms=histograms)
    assert resumed.resumed == 3  # 10 rows = three whole 3-layer configurations and a partial
    same_records(resumed.records, full.records)
    same_records(sweeps.read_records(path), full.records)  # each row once, nothing torn
    assert path.read_text().endswith("\n")


def test_resume_without_a_file_runs_everything_and_needs_out(tmp_path):
    result = sweeps.sweep(init="he_normal", depth=2, width=8, batch=4, out=tmp_path / "x.csv",
                          resume=True)
    assert result.resumed == 0 and len(result) == 2
    with pytest.raises(ValueError, match="resume needs out"):
        sweeps.sweep(init="he_normal", resume=True)


def test_a_failing_configuration_is_recorded_and_the_rest_go_on(tmp_path):
    configs = [Config("he_normal", "relu", 2, 8, 4), Config("normal:std=-1", "tanh", 2, 8, 4),
               Config("xavier_normal", "tanh", 2, 8, 4)]
    result = sweeps.sweep(configs, out=tmp_path / "x.csv")
    assert len(result.failed) == 1 and "std" in result.failed[0]["error"]
    assert len(result) == 5 and "1 failed" in result.summary()
    assert math.isnan(result.failed[0]["std"]) and result.failed[0]["layer"] is None
    same_records(sweeps.read_records(tmp_path / "x.csv"), result.records)
    # a failed configuration is run again on resume (out of memory may not happen twice)
    again = sweeps.sweep(configs, out=tmp_path / "x.csv", resume=True)
    assert again.resumed == 2 and len(again.failed) == 1


def test_bad_arguments_raise_before_anything_runs(tmp_path):
    with pytest.raises(ValueError, match="out must end"):
        sweeps.sweep(init="he_normal", out=tmp_path / "x.txt")
    with pytest.raises(TypeError, match="executor"):
        sweeps.sweep(init="he_normal", executor="dask")
    with pytest.raises(TypeError, match="Config"):
        sweeps.sweep([("he_normal", "relu")])
    with pytest.raises(ValueError, match="chunk_size"):
        sweeps.sweep(init="he_normal", chunk_size=0)
    with pytest.raises(ValueError, match="give configs, or init"):
        sweeps.sweep()
    assert not (tmp_path / "x.txt").exists()


def test_to_pandas_has_one_row_per_record():
    pandas = pytest.importorskip("pandas")
    frame = sweeps.sweep(init="he_normal", depth=3, width=8, batch=4).to_pandas()
    assert isinstance(frame, pandas.DataFrame) and len(frame) == 3
    assert list(frame["layer"]) == [1, 2, 3]


def test_histograms_are_optional_and_count_every_value():
    result = sweeps.sweep(init="xavier_normal", depth=2, width=10, batch=6, histograms=True,
                          bins=7)
    assert all(sum(r["hist"]) == 60 and len(r["bin_edges"]) == 8 for r in result.records)
    assert "hist" not in sweeps.sweep(init="xavier_normal", depth=2, width=10,
                                      batch=6).records[0]


@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("dask.distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None)
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


def test_dask_cluster_gives_the_in_process_records(dask_client):
    local = sweeps.sweep(**SMALL, num_threads=1)
    remote = sweeps.sweep(**SMALL, executor=dask_client, chunk_size=4)
    same_records(local.records, remote.records)
    via_executor = sweeps.sweep(**SMALL, executor=dask_client.get_executor())
    same_records(local.records, via_executor.records)


class DieOnce:
    """A task wrapper that kills its worker process the first time it runs (the marker file
    says it already did), then runs the task: a worker death in the middle of a sweep."""

    def __init__(self, marker, function):
        self.marker, self.function = marker, function

    def __call__(self, *args, **kwargs):
        try:
            os.close(os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return self.function(*args, **kwargs)
        os._exit(17)


class DyingExecutor(concurrent.futures.Executor):
    """An executor whose first task kills its worker: the test seam, outside the product."""

    def __init__(self, executor, marker):
        self.executor, self.marker = executor, marker
        self._max_workers = 2

    def submit(self, fn, *args, **kwargs):
        return self.executor.submit(DieOnce(self.marker, fn), *args, **kwargs)


def test_a_dask_worker_that_dies_costs_a_retry_not_the_sweep(dask_client, tmp_path):
    import cloudpickle
    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import tests
    marker = str(tmp_path / "died")
    executor = DyingExecutor(dask_client.get_executor(), marker)
    result = sweeps.sweep(**SMALL, executor=executor, chunk_size=3)
    assert os.path.exists(marker)  # a worker did die mid-sweep
    same_records(result.records, sweeps.sweep(**SMALL, num_threads=1).records)


def test_bias_spec_runs_random_biases():
    result = sweeps.sweep(init="xavier_normal", bias=["0", "normal:std=0.5"], depth=2,
                          width=30, batch=50)
    no_bias, random_bias = result.records[:2], result.records[2:]
    assert random_bias[0]["bias"] == "normal:std=0.5" and no_bias[0]["bias"] == 0.0
    assert random_bias[0]["preact_std"] > no_bias[0]["preact_std"]
    assert np.isfinite(random_bias[1]["predicted_std"])


def test_progress_bar_goes_to_stderr_when_asked(capsys):
    sweeps.sweep(init="he_normal", depth=2, width=8, batch=4, seeds=3, progress=True)
    err = capsys.readouterr().err
    assert "sweep" in err and "3/3" in err
    sweeps.sweep(init="he_normal", depth=2, width=8, batch=4, seeds=3, progress=False)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("shape, workers, expected", [
    # 10 x 500, batch 1000: 5e9 flops, 0.25 s a network at 20 GFLOP/s: 4 fit in a second
    (dict(depth=10, width=500, batch=1000), 2, 4),
    # 20 x 64, batch 256: ~2 ms a network: as many as a second holds, at most 64
    (dict(depth=20, width=64, batch=256), 2, 64),
    # few networks: at least four chunks per worker
    (dict(depth=2, width=8, batch=4, seeds=16), 2, 2),
    # 3 x 400, batch 1000: 9.6e8 flops, 48 ms a network: 20 fit in a second
    (dict(depth=3, width=400, batch=1000), 1, 20),
    # 10 x 2000, batch 1000: 8e10 flops, 4 s a network: one per chunk
    (dict(depth=10, width=2000, batch=1000), 2, 1),
])
def test_chunks_hold_about_a_second_of_work(shape, workers, expected):
    configs = sweeps.grid(init="lecun_normal", **{"seeds": 1000, **shape})
    assert runner.chunk_size_for(configs, workers) == expected


def test_a_configuration_alone_in_its_seed_group_is_laid_out_once():
    # issue 25: a deep network run alone was laid out for the chunk runner's check (one
    # thread) and again for its own run (all threads): at depth 10**6, twice two minutes
    from fastinit import propagation
    propagation._compile.cache_clear()
    sweeps.sweep(init="lecun_normal", depth=300, width=3, batch=2, seeds=[7], num_threads=2)
    assert propagation._compile.cache_info().misses == 1
    propagation._compile.cache_clear()
    sweeps.sweep(init="lecun_normal", depth=30, width=3, batch=2, seeds=3, num_threads=2)
    assert propagation._compile.cache_info().misses == 1  # the group's one layout


@pytest.mark.parametrize("n, size, workers", [(100, 7, 2), (13, 64, 2), (1, 5, 4), (50, 1, 3),
                                              (1000, 64, 8)])
def test_guided_chunks_shrink_to_single_networks_at_the_end(n, size, workers):
    configs = list(range(n))
    chunks = runner.guided_chunks(configs, size, workers)
    assert [c for chunk in chunks for c in chunk] == configs  # every network once, in order
    sizes = [len(chunk) for chunk in chunks]
    assert max(sizes) <= size and sizes == sorted(sizes, reverse=True)
    assert sizes[-1] == 1  # the tail: no worker waits on another's whole chunk
    # each chunk is at most a 2 * workers-th of what was left when it was cut
    left = n
    for s in sizes:
        assert s <= max(1, -(-left // (2 * workers)))
        left -= s


def test_a_chunks_records_are_built_while_the_next_chunks_kernels_run(monkeypatch):
    """The local chunk runner overlaps Python and kernels: each chunk's kernels in the calling
    thread (whose team answers Ctrl-C), its records on a helper thread, the next chunk's
    kernels started before that chunk's records are waited for; the records as without."""
    import threading
    configs = sweeps.grid("lecun_normal", depth=3, width=16, batch=8, seeds=40)
    expected = sweeps.sweep(configs, num_threads=1, chunk_size=None).records
    events = []
    kernels, records = runner.chunk_kernels, runner.chunk_records

    def traced_kernels(chunk, options):
        events.append(("kernels", threading.current_thread() is threading.main_thread()))
        return kernels(chunk, options)

    def traced_records(chunk, computed, options):
        events.append(("records", threading.current_thread() is threading.main_thread()))
        return records(chunk, computed, options)

    monkeypatch.setattr(runner, "chunk_kernels", traced_kernels)
    monkeypatch.setattr(runner, "chunk_records", traced_records)
    monkeypatch.setattr(runner, "chunk_size_for", lambda *a, **k: 10)  # four chunks of 10
    got = sweeps.sweep(configs, num_threads=1).records
    same_records(expected, got)
    assert [r["seed"] for r in got] == [r["seed"] for r in expected]
    assert events.count(("kernels", True)) == 4 and events.count(("records", False)) == 4
    assert events[:2] == [("kernels", True), ("kernels", True)] or \
        events[:3] == [("kernels", True), ("records", False), ("kernels", True)]
