"""Data-parallel training (``--distributed``): W workers, started by the framework's own
launcher, train as one worker with the whole batch.

The launcher tests start real processes on this machine, each bounded in time:
``torchrun`` with two gloo workers for PyTorch; for TensorFlow one process over two CPU
devices (``DCGAN_CPU_DEVICES=2``, MirroredStrategy) and two processes that ``TF_CONFIG``
joins (MultiWorkerMirroredStrategy, started by tests/tf_workers.py); for MXNet one
process over two CPU contexts and two processes joined by the ``dist_sync`` kvstore
(with a scheduler and a server, started by tests/mx_workers.py); for JAX one process
over two CPU devices (a mesh).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from mx_workers import ps_environment
from test_parity import TEN_STEP_LOSS_TOLERANCE, TEN_STEP_WEIGHT_TOLERANCE, TOLERANCE
from tf_workers import free_ports, tf_config

from dcgan.checkpoints import CHECKPOINT_FILE, load_checkpoint
from dcgan.distributed import (
    CPU_DEVICES_ENV,
    DATA_PARALLEL_BACKENDS,
    Workers,
    WorkersLost,
    check_batch_size,
    reporting_lost_workers,
)
from dcgan.randomness import EpochOrder
from dcgan.runs import METRICS_FILE, read_metrics
from dcgan.weights import load_weights

HERE = Path(__file__).resolve().parent
TIMEOUT_S = 300
LAUNCHERS = {"torch": ("processes",), "tensorflow": ("devices", "processes"),
             "jax": ("devices",), "mxnet": ("devices", "processes")}
"""How each backend's workers are started: ``processes`` (one per worker: torchrun,
TF_CONFIG for TensorFlow, the dist_sync kvstore for MXNet) or ``devices`` (one process over
several devices)."""


@pytest.fixture(scope="session")
def parallel_backend(backend):
    """A backend that trains data-parallel (every one does)."""
    assert backend.NAME in DATA_PARALLEL_BACKENDS
    return backend


@pytest.fixture(scope="session", params=["processes", "devices"])
def launcher(request, parallel_backend):
    """Each way the backend's workers can be started, in turn."""
    if request.param not in LAUNCHERS[parallel_backend.NAME]:
        pytest.skip(f"{parallel_backend.NAME} does not train on several {request.param} of "
                    f"one run (its ways: {', '.join(LAUNCHERS[parallel_backend.NAME])})")
    return request.param


def launch(backend_name: str, launcher: str, workers: int, *args: str) -> list[str]:
    """The command that starts ``workers`` workers of ``args`` (``-m MODULE ...`` or a
    script) the backend's way: PyTorch's launcher, TensorFlow's processes joined by
    ``TF_CONFIG`` (tests/tf_workers.py), MXNet's joined by the ``dist_sync`` kvstore
    (tests/mx_workers.py), or one process over ``workers`` CPU devices
    (``DCGAN_CPU_DEVICES``, which ``env`` sets)."""
    if launcher == "devices":
        return ["env", f"{CPU_DEVICES_ENV}={workers}", sys.executable, *args]
    if backend_name == "torch":
        return [sys.executable, "-m", "torch.distributed.run", "--standalone",
                "--nproc-per-node", str(workers), *args]
    starter = "mx_workers.py" if backend_name == "mxnet" else "tf_workers.py"
    return [sys.executable, str(HERE / starter), str(workers), *args]


def train_args(backend_name: str, folder: Path, out: Path, epochs: int,
               distributed: bool = True) -> list[str]:
    """``-m dcgan.<backend>.train`` and the options of a small run of 8-image batches."""
    return ["-m", f"dcgan.{backend_name}.train", *(["--distributed"] if distributed else []),
            "--device", "cpu",
            "--data-dir", str(folder), "--batch-size", "8", "--num-workers", "0", "--seed", "3",
            "--eval-every", "0", "--epochs", str(epochs), "--out", str(out)]


def run(command: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT_S,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})


# What every worker is given ----------------------------------------------------------


def test_a_global_batch_splits_into_consecutive_parts_the_first_the_larger():
    parts = [Workers(rank, 3).part(10) for rank in range(3)]
    assert parts == [slice(0, 4), slice(4, 7), slice(7, 10)]
    assert [Workers(rank, 2).part(8) for rank in range(2)] == [slice(0, 4), slice(4, 8)]


def test_the_workers_parts_of_each_batch_make_up_the_one_worker_batch_also_when_resumed():
    length, batch, size = 22, 8, 2  # the last batch has 6 images
    whole = EpochOrder(length, seed=5, batch_size=batch)
    parts = [EpochOrder(length, seed=5, batch_size=batch, workers=Workers(r, size))
             for r in range(size)]
    for skip in (0, 1):  # a resumed epoch starts after `skip` batches
        for order in (whole, *parts):
            order.epoch, order.start = 2, skip * order.local_batch_size
        local = [p.indices() for p in parts]
        rebuilt = np.concatenate([
            np.concatenate([index[first:first + batch // size] for index in local])
            for first in range(0, len(local[0]), batch // size)])
        np.testing.assert_array_equal(rebuilt, whole.indices())
    assert [whole.global_batch_size(step) for step in (1, 2, 3)] == [8, 8, 6]


class _Batches:
    """Two epochs' worth of one worker's batches (X is only a shape here), as a backend's
    loader gives them: this worker's part of global batches of 8 over 12 images."""

    def __init__(self, workers: Workers) -> None:
        self.order = EpochOrder(12, batch_size=8, workers=workers)

    def __iter__(self):
        local = self.order.indices()
        for first in range(0, len(local), self.order.local_batch_size):
            yield np.zeros((len(local[first:first + self.order.local_batch_size]), 1)), None

    def __len__(self) -> int:
        return 2

    def global_batch_size(self, step: int) -> int:
        return self.order.global_batch_size(step)


def test_each_worker_draws_its_rows_of_the_whole_batchs_noise_and_counts_the_whole_batch():
    from dcgan.loop import fit

    def noise_and_counts(workers: Workers) -> tuple[list[np.ndarray], list[int]]:
        seen = []

        def both_updates(X, Z):
            seen.append(Z)
            return 1.0, 1.0

        history = fit(both_updates, _Batches(workers), 1, seed=4, latent_dim=3, layout="NCHW",
                      to_tensor=lambda a: a, generate=lambda Z: Z, device="cpu",
                      progress=False, workers=workers)
        return seen, [m.examples for m in history]

    whole, examples = noise_and_counts(Workers())
    parts = [noise_and_counts(Workers(rank, 2)) for rank in range(2)]
    for step, Z in enumerate(whole):  # a batch of 8, then the last one of 4
        np.testing.assert_array_equal(np.concatenate([p[0][step] for p in parts]), Z)
    assert [len(Z) for Z in whole] == [8, 4]
    assert parts[0][1] == parts[1][1] == examples == [12]


@pytest.mark.parametrize("batch_size, num_images, words", [
    (7, 16, "--batch-size 7 is not divisible by the 2 workers"),
    (8, 17, "the last batch of each epoch has 1 of the 17 images, which the 2 workers cannot "
            "share evenly")])
def test_a_batch_the_workers_cannot_share_is_refused_with_what_to_change(batch_size, num_images,
                                                                         words):
    with pytest.raises(ValueError, match=words):
        check_batch_size(batch_size, num_images, 2)


def test_a_failed_collective_becomes_workers_lost_naming_the_worker_and_other_errors_pass():
    def collective(kind: type[Exception]) -> None:
        raise kind("Connection closed by peer")

    guarded = reporting_lost_workers(collective, Workers(1, 2, timeout_s=5),
                                     is_lost=lambda err: isinstance(err, ConnectionError))
    with pytest.raises(WorkersLost, match=r"worker 1 of 2: a collective with the other workers "
                       r"failed \(ConnectionError: Connection closed by peer\).*within 5 s"):
        guarded(ConnectionError)
    with pytest.raises(KeyError):
        guarded(KeyError)


# Equivalence: W workers at global batch 2B are one worker at 2B ------------------------


@pytest.fixture(scope="session")
def two_worker_steps(parallel_backend, launcher, tmp_path_factory):
    """Ten data-parallel steps of 2 workers at global batch 16 (tests/data_parallel_steps.py):
    each worker process's results."""
    name = parallel_backend.NAME
    out = tmp_path_factory.mktemp(f"steps-{name}-{launcher}")
    done = run(launch(name, launcher, 2, str(HERE / "data_parallel_steps.py"), name, str(out),
                      "--steps", "10"), cwd=out)
    assert done.returncode == 0, done.stderr[-3000:]
    results = tuple(dict(np.load(path)) for path in sorted(out.glob("rank*.npz")))
    assert sum(int(r["devices"]) for r in results) == 2, "not on two devices"
    return results


@pytest.fixture(scope="session")
def one_worker_steps(parallel_backend):
    """The same ten steps on one worker at batch 16, in this process."""
    from data_parallel_steps import run_steps

    return run_steps(parallel_backend, Workers(), steps=10, batch_size=16)


def _largest_difference(a: dict, b: dict, prefix: str, learned_only: bool = True):
    return max((float(np.abs(a[k] - b[f"{prefix}/{k}"]).max()), k) for k in a
               if not (learned_only and "running" in k))


def test_one_step_of_two_workers_is_one_step_of_one_worker_with_the_whole_batch(
        two_worker_steps, one_worker_steps):
    losses, first, _ = one_worker_steps
    rank0 = two_worker_steps[0]
    np.testing.assert_allclose(rank0["losses"][0], losses[0], rtol=TOLERANCE)
    difference, where = _largest_difference(first, rank0, "first", learned_only=False)
    assert difference <= TOLERANCE, f"{where} differs by {difference:.2e}"


def test_ten_steps_of_two_workers_stay_within_the_parity_drift_of_one_worker(
        parallel_backend, two_worker_steps, one_worker_steps):
    losses, _, last = one_worker_steps
    rank0 = two_worker_steps[0]
    drift = np.abs(rank0["losses"] - losses) / np.abs(losses)
    print(f"\n{parallel_backend.NAME}, 2 workers against 1: relative loss drift by step "
          + " ".join(f"{d:.1e}" for d in drift.max(axis=1)))
    assert drift.max() <= TEN_STEP_LOSS_TOLERANCE
    difference, where = _largest_difference(last, rank0, "last")
    assert difference <= TEN_STEP_WEIGHT_TOLERANCE, f"{where} drifted by {difference:.2e}"


def test_the_worker_processes_replicas_stay_identical(parallel_backend, launcher,
                                                     two_worker_steps):
    if launcher != "processes":
        pytest.skip(f"{parallel_backend.NAME} trains in one process here, whose replicas its "
                    f"engine keeps equal")
    rank0, rank1 = two_worker_steps
    for key in rank0:
        np.testing.assert_array_equal(rank0[key], rank1[key], err_msg=key)


# The command line --------------------------------------------------------------------


@pytest.fixture(scope="session")
def sprites16(tmp_path_factory):
    from dcgan.datasets import sprites

    return sprites(tmp_path_factory.mktemp("data"), count=16)  # two steps of 8 an epoch


@pytest.fixture(scope="session")
def two_worker_run(parallel_backend, launcher, tmp_path_factory, sprites16):
    """The folder of a finished four-epoch run of 2 workers."""
    name = parallel_backend.NAME
    cwd = tmp_path_factory.mktemp(f"run-{name}-{launcher}")
    done = run(launch(name, launcher, 2, *train_args(name, sprites16, cwd / "run", 4)), cwd)
    assert done.returncode == 0, done.stderr[-3000:]
    return cwd / "run"


def test_a_two_worker_run_writes_the_folder_a_one_worker_run_writes_and_only_once(
        parallel_backend, two_worker_run, sprites16, tmp_path):
    name = parallel_backend.NAME
    assert parallel_backend.main(train_args(name, sprites16, tmp_path / "one", 4,
                                            distributed=False)[2:]) == 0
    folder = two_worker_run
    assert sorted(p.relative_to(folder) for p in folder.rglob("*")) == \
        sorted(p.relative_to(tmp_path / "one") for p in (tmp_path / "one").rglob("*"))
    assert sorted(p.name for p in folder.parent.iterdir()) == ["run"]  # nothing else written
    assert json.loads((folder / "config.json").read_text())["workers"] == 2
    assert [m["examples"] for m in read_metrics(folder)] == [16] * 4  # the global batches
    assert load_checkpoint(folder / CHECKPOINT_FILE, name).position.epoch == 5


def test_ctrl_c_stops_every_worker_and_the_resumed_run_is_the_uninterrupted_one(
        parallel_backend, launcher, two_worker_run, sprites16, tmp_path):
    name = parallel_backend.NAME
    stopped = tmp_path / "stopped"
    process = subprocess.Popen(launch(name, launcher, 2,
                                      *train_args(name, sprites16, stopped, 4)),
                               cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, start_new_session=True,
                               env={**os.environ, "OMP_NUM_THREADS": "1"})
    deadline = time.monotonic() + TIMEOUT_S
    while not (stopped / METRICS_FILE).exists() and process.poll() is None:
        assert time.monotonic() < deadline, "the run wrote no epoch in time"
        time.sleep(0.01)
    os.killpg(process.pid, signal.SIGINT)  # a terminal's Ctrl-C: launcher and workers
    _, stderr = process.communicate(timeout=TIMEOUT_S)
    assert "checkpoint saved to" in stderr and "--distributed" in stderr, stderr[-3000:]
    assert process.returncode != 0
    position = load_checkpoint(stopped / CHECKPOINT_FILE, name).position
    assert (position.epoch, position.step) < (5, 0), "the run ended before Ctrl-C"

    resumed = run(launch(name, launcher, 2, "-m", f"dcgan.{name}.train", "--distributed",
                         "--resume", str(stopped)), cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    uninterrupted = two_worker_run
    for net, arrays in load_weights(uninterrupted / "weights.safetensors").items():
        for key, array in arrays.items():
            np.testing.assert_array_equal(
                load_weights(stopped / "weights.safetensors")[net][key], array,
                err_msg=f"{net}.{key}")
    assert [m["loss_D"] for m in read_metrics(stopped)] == \
        [m["loss_D"] for m in read_metrics(uninterrupted)]


def test_a_batch_size_the_workers_do_not_divide_stops_every_worker_before_writing(
        parallel_backend, launcher, sprites16, tmp_path):
    name = parallel_backend.NAME
    done = run(launch(name, launcher, 2, *train_args(name, sprites16, tmp_path / "run", 1),
                      "--batch-size", "7"), cwd=tmp_path)
    assert done.returncode != 0
    assert "--batch-size 7 is not divisible by the 2 workers" in done.stderr
    assert not (tmp_path / "run").exists()


def _folder_holding_a_run(tmp_path: Path) -> Path:
    out = tmp_path / "earlier"
    out.mkdir()
    (out / METRICS_FILE).write_text('{"epoch": 1}\n')
    return out


@pytest.mark.parametrize("bad_input, error", [
    ("a missing image folder", "does not exist"),
    ("an --out that holds a run", "already holds a training run"),
])
def test_bad_input_that_only_the_chief_sees_stops_every_worker_at_once(
        parallel_backend, launcher, sprites16, tmp_path, bad_input, error):
    """The chief alone makes the image folder and the run folder; when it cannot, the
    other workers stop with it instead of waiting --worker-timeout for it."""
    name = parallel_backend.NAME
    if launcher != "processes":
        pytest.skip(f"{name} trains in one process here: no other process to stop")
    if bad_input == "a missing image folder":
        folder, out = tmp_path / "missing", tmp_path / "run"
    else:
        folder, out = sprites16, _folder_holding_a_run(tmp_path)
    before = sorted(p.name for p in out.iterdir()) if out.exists() else None
    began = time.monotonic()
    done = run(launch(name, launcher, 2, *train_args(name, folder, out, 1)), cwd=tmp_path)
    assert done.returncode != 0
    assert error in done.stderr, done.stderr[-3000:]
    assert "another worker could not start the run" in done.stderr
    assert "cli.py" not in done.stderr  # no traceback from the package (torchrun has its own)
    assert time.monotonic() - began < 120  # not the --worker-timeout of 300 s
    assert (sorted(p.name for p in out.iterdir()) if out.exists() else None) == before


def _free_port() -> int:
    return free_ports(1)[0]


def _worker_environment(backend_name: str, rank: int, size: int, port: int | list[int]
                        ) -> dict[str, str]:
    """What the launcher tells worker ``rank`` of ``size``: torchrun's variables, ps-lite's
    for MXNet (the scheduler on ``port``), or the TF_CONFIG of a cluster of local workers
    (``port``: one for PyTorch's rendezvous or MXNet's scheduler, or each TensorFlow
    worker's)."""
    if backend_name == "torch":
        return {"RANK": str(rank), "LOCAL_RANK": str(rank), "WORLD_SIZE": str(size),
                "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)}
    if backend_name == "mxnet":
        return ps_environment(size, port, "worker")
    return {"TF_CONFIG": tf_config(port, rank)}


def _start_helpers(backend_name: str, command: list[str], size: int, port: int | list[int],
                   cwd: Path) -> list[subprocess.Popen]:
    """The processes besides the workers that the backend's launcher starts: MXNet's
    scheduler and server (none for the others)."""
    if backend_name != "mxnet":
        return []
    return [subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL,
                             env={**os.environ, **ps_environment(size, port, role)})
            for role in ("scheduler", "server")]


def test_a_worker_that_dies_stops_the_others_with_a_clear_error(
        parallel_backend, launcher, sprites16, tmp_path):
    """Two workers of a long run; worker 1 is killed after the first epoch: worker 0 stops
    at its next collective with the error, and keeps the last checkpoint."""
    name = parallel_backend.NAME
    if launcher != "processes":
        pytest.skip(f"{name} trains in one process here: no other process to lose")
    ports = free_ports(2) if name == "tensorflow" else _free_port()
    command = [sys.executable, *train_args(name, sprites16, tmp_path / "run", 100),
               "--worker-timeout", "5"]
    errors = [tmp_path / f"worker{rank}.err" for rank in range(2)]  # files: no pipe fills up
    workers = _start_helpers(name, command, 2, ports, tmp_path)
    for rank in range(2):
        with errors[rank].open("w") as stderr:
            workers.append(subprocess.Popen(
                command, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=stderr,
                env={**os.environ, "OMP_NUM_THREADS": "1",
                     **_worker_environment(name, rank, 2, ports)}))
    try:
        deadline = time.monotonic() + TIMEOUT_S
        while not (tmp_path / "run" / METRICS_FILE).exists():
            assert all(w.poll() is None for w in workers), errors[0].read_text()[-3000:]
            assert time.monotonic() < deadline, "the run wrote no epoch in time"
            time.sleep(0.01)
        # The chief says where it trains (ps-lite, not the start order, gives MXNet's ranks).
        chief = next(rank for rank in range(2) if "training " in errors[rank].read_text())
        workers[-2 + (1 - chief)].kill()
        killed = time.monotonic()
        workers[-2 + chief].wait(timeout=TIMEOUT_S)
    finally:
        for worker in workers:
            worker.kill()
            worker.wait()
    stderr = errors[chief].read_text()
    assert workers[-2 + chief].returncode == 1, stderr[-3000:]
    assert "worker 0 of 2: a collective with the other workers failed" in stderr
    assert "Traceback" not in stderr
    assert time.monotonic() - killed < 60
    assert load_checkpoint(tmp_path / "run" / CHECKPOINT_FILE, name).position.epoch >= 2


def test_a_worker_that_never_answers_stops_the_others_with_a_clear_error(
        parallel_backend, launcher, sprites16, tmp_path):
    """Worker 0 of 2 alone: it waits for worker 1 for --worker-timeout, then says so."""
    name = parallel_backend.NAME
    if launcher != "processes":
        pytest.skip(f"{name} trains in one process here: no other process to wait for")
    ports = free_ports(2) if name == "tensorflow" else _free_port()
    env = {**os.environ, **_worker_environment(name, 0, 2, ports)}
    began = time.monotonic()
    done = subprocess.run([sys.executable, *train_args(name, sprites16, tmp_path / "run", 1),
                           "--worker-timeout", "3"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=TIMEOUT_S, env=env)
    assert done.returncode == 1, done.stderr[-3000:]
    assert "did not answer within 3 s (--worker-timeout)" in done.stderr
    assert "Traceback" not in done.stderr
    assert time.monotonic() - began < 60
    assert not (tmp_path / "run").exists()


def test_distributed_outside_the_launcher_says_how_to_start_the_workers(
        parallel_backend, sprites16, tmp_path):
    name = parallel_backend.NAME
    if name != "torch":
        pytest.skip(f"{name} needs no launcher: without one it trains over its devices")
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE")}
    done = subprocess.run([sys.executable, *train_args(name, sprites16, tmp_path / "run", 1)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=TIMEOUT_S,
                          env=env)
    assert done.returncode == 2
    assert "torchrun --nproc-per-node N -m dcgan.torch.train --distributed" in done.stderr
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("tf_config, words", [
    ("{not json", "TF_CONFIG is not JSON"),
    ('{"cluster": {"ps": ["127.0.0.1:1"]}, "task": {"type": "ps", "index": 0}}',
     "a data-parallel run has 'worker' tasks only")])
def test_a_tensorflow_worker_with_a_bad_tf_config_says_what_it_must_hold(
        load_backend, sprites16, tmp_path, monkeypatch, capsys, tf_config, words):
    backend = load_backend("tensorflow")
    monkeypatch.setenv("TF_CONFIG", tf_config)
    with pytest.raises(SystemExit) as stopped:
        backend.main(train_args("tensorflow", sprites16, tmp_path / "run", 1)[2:])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert words in err and '"task": {"type": "worker", "index": 0}' in err
    assert not (tmp_path / "run").exists()


def test_jax_across_processes_is_refused_saying_so(load_backend, monkeypatch):
    """``jax.distributed`` aborts a process whose peer is lost (README, docs/
    jax_distributed_probe.py), so its coordinator in the environment is refused."""
    backend = load_backend("jax")
    monkeypatch.setenv("JAX_COORDINATOR_ADDRESS", "localhost:1234")
    with pytest.raises(ValueError, match="across processes or machines .* is not supported"):
        backend.start_workers("cpu")
