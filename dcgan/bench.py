"""``python -m dcgan.bench``: how fast each backend trains the chapter's DCGAN.

Each backend runs in its own process (so that one framework's threads and
memory do not disturb another's) and reports, from the same canonical
weights and the same random batches:

* ``default``: examples/sec of the training step as ``train`` runs it
  (compiled, tuned memory layout, the package's thread and kernel settings);
  ``eager``: the chapter's step as the book writes it, in the environment a
  user gets by default (``DCGAN_FRAMEWORK_DEFAULTS=1``: the package applies
  none of its settings). Each step ends with the losses as Python floats,
  which forces the work to complete before the clock stops.
* ``pipeline``: images/sec of the backend's input pipeline over the sprites,
  and the share of a training epoch spent waiting for data.
* peak memory (resident set) of the process.

``--precision fp32,bf16`` measures both step modes at each precision in one
run (``dcgan.precision``; on the CPU: fp32, bf16, fp16) and prints each
backend's ratio of the default step at bf16 to fp32; a precision a backend
refuses is a row with its reason.

The two step modes run ``--repeats`` times each, alternating (default, eager,
default, ...), and the table shows each mode's fastest run, as for the
matmul rate: on a shared machine a slower run measures a busy neighbour, not
the code (the advice of Python's ``timeit``), and alternating spreads such
interference over both modes.

The machine's float32 matrix-multiply rate (numpy's BLAS) and the FLOPs of
one step per example (from the layer shapes in ``dcgan.shapes``) give the
arithmetic bound, and each step's fraction of it. Where numpy's BLAS is
slower than the frameworks' convolution kernels the fraction exceeds 1: the
bound is then a floor of the machine's real peak. No test times anything.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from typing import Any, Callable

import numpy as np

from dcgan import backend as backends
from dcgan.cli import Parser, non_negative_int, positive_int
from dcgan.precision import CPU_PRECISIONS
from dcgan.shapes import Layer, array_in_layout, discriminator_layers, generator_layers
from dcgan.startup import FRAMEWORK_DEFAULTS_ENV

MODES = ("default", "eager")


def forward_flops(layers: list[Layer]) -> int:
    """FLOPs (two per multiply-add) of a net's convolutions for one example."""
    return 2 * sum(layer.multiply_adds() for layer in layers)


def step_flops_per_example(latent_dim: int = 100, n_G: int = 64, n_D: int = 64) -> float:
    """FLOPs of one training step (update_D then update_G) per example.

    A backward pass costs two forward passes (gradients of the input and of
    the weights). update_D: one forward of net_G (no gradient) and, for the
    real and the fake batch, a forward and a backward of net_D. update_G: a
    forward and a backward of both nets. BatchNorm, activations and Adam are
    left out: they are a few percent of the convolutions.
    """
    G = forward_flops(generator_layers(latent_dim, n_G))
    D = forward_flops(discriminator_layers(n_D))
    update_D = G + 2 * (D + 2 * D)
    update_G = (G + 2 * G) + (D + 2 * D)
    return float(update_D + update_G)


def matmul_gflops(n: int = 2048, repeats: int = 5) -> float:
    """The machine's float32 matrix-multiply rate (numpy's BLAS, best of ``repeats``)."""
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((n, n)).astype(np.float32) for _ in range(2))
    a @ b
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    return 2 * n ** 3 / best / 1e9


def cpu_model() -> str:
    """The CPU's model name where the system says it (Linux), else its architecture."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def peak_memory_mb() -> float:
    """The largest resident set of this process so far, in MiB (Linux reports KiB)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 1024 if sys.platform != "darwin" else rss / 2 ** 20


def measure_step(backend: Any, mode: str, batch_size: int, steps: int, warmup: int) -> float:
    """Examples/sec of ``backend``'s step in ``mode`` on random batches."""
    from dcgan.weights import init_weights

    weights = init_weights(0)
    net_D, net_G = backend.net_D(), backend.net_G()
    backend.from_canonical(net_D, weights["net_D"])
    backend.from_canonical(net_G, weights["net_G"])
    trainer_D, trainer_G = backend.make_trainers(net_D, net_G, lr=0.005)
    step = backend.make_step(net_D, net_G, backend.make_loss(), trainer_D, trainer_G, 100,
                             eager=mode == "eager")
    rng = np.random.default_rng(1)
    X = backend.as_tensor(array_in_layout(
        rng.uniform(-1, 1, (batch_size, 3, 64, 64)).astype(np.float32), backend.LAYOUT))
    Z = backend.as_tensor(array_in_layout(
        rng.standard_normal((batch_size, 100, 1, 1)).astype(np.float32), backend.LAYOUT))
    for _ in range(warmup):
        step(X, Z)
    start = time.perf_counter()
    for _ in range(steps):
        step(X, Z)  # returns Python floats: the step has completed
    return steps * batch_size / (time.perf_counter() - start)


def measure_pipeline(backend: Any, batch_size: int, steps: int) -> dict[str, float]:
    """Images/sec of the input pipeline alone, and the share of a training epoch (``steps``
    batches of the default step) spent waiting for the next batch."""
    from dcgan.datasets import sprites
    from dcgan.weights import init_weights

    with tempfile.TemporaryDirectory() as root:
        folder = sprites(root, count=batch_size * steps)
        data = backend.load_data(folder, batch_size, num_workers=2, seed=0)
        list(data)  # warm: worker start-up, file cache
        start = time.perf_counter()
        images = sum(int(backend.as_numpy(X).shape[0]) for X, _ in data)
        images_per_sec = images / (time.perf_counter() - start)

        weights = init_weights(0)
        net_D, net_G = backend.net_D(), backend.net_G()
        backend.from_canonical(net_D, weights["net_D"])
        backend.from_canonical(net_G, weights["net_G"])
        trainer_D, trainer_G = backend.make_trainers(net_D, net_G, lr=0.005)
        step = backend.make_step(net_D, net_G, backend.make_loss(), trainer_D, trainer_G, 100)
        Z = backend.as_tensor(array_in_layout(np.random.default_rng(2).standard_normal(
            (batch_size, 100, 1, 1)).astype(np.float32), backend.LAYOUT))
        waiting = 0.0
        start = time.perf_counter()
        batches = iter(data)
        while True:
            before = time.perf_counter()
            try:
                X, _ = next(batches)
            except StopIteration:
                break
            waiting += time.perf_counter() - before
            step(X, Z if X.shape[0] == batch_size else Z[:X.shape[0]])
        epoch = time.perf_counter() - start
    return {"examples_per_sec": images_per_sec, "data_wait_fraction": waiting / epoch}


def framework_version(name: str) -> str:
    """The installed version of the framework behind backend ``name`` (each backend is named
    after its framework's distribution: torch, tensorflow, mxnet, jax)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "?"


def worker(name: str, mode: str, batch_size: int, steps: int, warmup: int,
           precision: str = "fp32") -> dict[str, Any]:
    """One measurement in this process, on the CPU at ``precision``; returns its JSON row."""
    backend = backends.load(name)
    row: dict[str, Any] = {"backend": name, "mode": mode, "batch_size": batch_size,
                           "version": framework_version(name)}
    if mode != "pipeline":
        row["precision"] = backend.use_precision(precision, backend.resolve_device("cpu"))
    if mode == "pipeline":
        row.update(measure_pipeline(backend, batch_size, steps))
    else:
        row["examples_per_sec"] = measure_step(backend, mode, batch_size, steps, warmup)
    row["peak_memory_mb"] = peak_memory_mb()
    return row


def run_in_subprocess(name: str, mode: str, args: argparse.Namespace,
                      precision: str = "fp32") -> dict[str, Any]:
    """Run :func:`worker` in a fresh process; a failure becomes a row with its reason."""
    failed = {"backend": name, "mode": mode, "batch_size": args.batch_size}
    if mode != "pipeline":
        failed["precision"] = precision
    reason = backends.missing_reason(name)
    if reason is not None:
        return {**failed, "error": reason}
    command = [sys.executable, "-m", "dcgan.bench", "--worker", name, "--mode", mode,
               "--batch-size", str(args.batch_size), "--steps", str(args.steps),
               "--warmup", str(args.warmup), "--precision", precision]
    env = dict(os.environ)
    if mode == "eager":
        env[FRAMEWORK_DEFAULTS_ENV] = "1"
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    if result.returncode != 0 or not lines:
        tail = (result.stderr.strip().splitlines() or ["no output"])[-1]
        return {**failed, "error": f"exit {result.returncode}: {tail}"}
    return json.loads(lines[-1])


def fastest_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the most examples/sec, with every run's figure under
    ``examples_per_sec_runs``; the first failed run instead, if any failed."""
    failed = [r for r in runs if "error" in r]
    if failed:
        return failed[0]
    figures = [r["examples_per_sec"] for r in runs]
    return {**runs[figures.index(max(figures))], "examples_per_sec_runs": figures}


def measure_backend(name: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    """One row per step mode and precision for backend ``name`` (the fastest of the
    alternating runs), then the pipeline's."""
    cases = [(mode, precision) for precision in args.precision for mode in MODES]
    runs: dict[tuple[str, str], list[dict[str, Any]]] = {case: [] for case in cases}
    for _ in range(args.repeats):
        for mode, precision in cases:
            runs[mode, precision].append(run_in_subprocess(name, mode, args, precision))
    return [fastest_run(runs[case]) for case in cases] + [
        run_in_subprocess(name, "pipeline", args)]


def print_table(rows: list[dict[str, Any]], gflops: float, flops: float,
                repeats: int = 1) -> None:
    """The human-readable summary of the JSON rows."""
    bound = gflops * 1e9 / flops
    print(f"machine: {cpu_model()}, {os.cpu_count()} cores; "
          f"float32 matmul {gflops:.0f} GFLOP/s; one step {flops / 1e9:.2f} GFLOP/example; "
          f"arithmetic bound {bound:.1f} examples/sec")
    if repeats > 1:
        print(f"steps: the fastest of {repeats} alternating runs per mode")
    print(f"{'backend':<11} {'mode':<9} {'precision':<9} {'batch':>5} {'examples/s':>11} "
          f"{'of bound':>9} {'data wait':>9} {'peak MiB':>9}  version")
    for r in rows:
        start = f"{r['backend']:<11} {r['mode']:<9} {r.get('precision', ''):<9} " \
                f"{r['batch_size']:>5}"
        if "error" in r:
            print(f"{start}  {r['error']}")
            continue
        fraction = f"{r['bound_fraction']:.2f}" if "bound_fraction" in r else ""
        wait = f"{r['data_wait_fraction']:.1%}" if "data_wait_fraction" in r else ""
        print(f"{start} {r['examples_per_sec']:>11.1f} {fraction:>9} {wait:>9} "
              f"{r['peak_memory_mb']:>9.0f}  {r['version']}")
    _print_ratios(rows, "default step against the chapter's step",
                  lambda r: r.get("precision") == "fp32", "mode", "default", "eager")
    for precision in sorted({r["precision"] for r in rows if r.get("precision", "fp32") != "fp32"}):
        _print_ratios(rows, f"{precision} default step against fp32's",
                      lambda r: r["mode"] == "default", "precision", precision, "fp32")


def _print_ratios(rows: list[dict[str, Any]], title: str, among: Callable[[dict], bool],
                  key: str, faster: str, slower: str) -> None:
    """One line of each backend's examples/sec ratio between the rows whose ``key`` is
    ``faster`` and ``slower``, among the successful rows that ``among`` keeps."""
    ratios = []
    for name in sorted({r["backend"] for r in rows}):
        kept = {r[key]: r for r in rows if r["backend"] == name and "error" not in r
                and r["mode"] in MODES and among(r)}
        if faster in kept and slower in kept:
            ratio = kept[faster]["examples_per_sec"] / kept[slower]["examples_per_sec"]
            ratios.append(f"{name} {ratio:.2f}x")
    if ratios:
        print(f"{title}: " + ", ".join(ratios))


def precision_list(text: str) -> list[str]:
    """``--precision``'s comma-separated CPU precisions, checked (argparse's type)."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    wrong = [name for name in names if name not in CPU_PRECISIONS]
    if not names or wrong:
        raise argparse.ArgumentTypeError(
            f"{text!r}: choose from {', '.join(CPU_PRECISIONS)}, separated by commas")
    return list(dict.fromkeys(names))


def build_parser() -> Parser:
    """The options of ``python -m dcgan.bench``."""
    parser = Parser(prog="python -m dcgan.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", default=",".join(backends.BACKENDS),
                        help="comma-separated backends to measure")
    parser.add_argument("--batch-size", type=positive_int, default=64,
                        help="images per measured step")
    parser.add_argument("--steps", type=positive_int, default=10,
                        help="timed steps per measurement")
    parser.add_argument("--warmup", type=non_negative_int, default=3, help="untimed steps first")
    parser.add_argument("--repeats", type=positive_int, default=3,
                        help="runs of each step mode, alternating; the fastest is shown")
    parser.add_argument("--precision", type=precision_list, default=["fp32"],
                        metavar="P[,P...]",
                        help="the step's arithmetic on the CPU, several separated by commas "
                             "(fp32,bf16 measures both in one run): fp32, bf16 or fp16")
    parser.add_argument("--json", action="store_true", help="one JSON line per measurement")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--mode", help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Measure the backends and print a table (or JSON lines with ``--json``)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.mode, args.batch_size, args.steps,
                                args.warmup, args.precision[0])))
        return 0
    names = [n.strip() for n in args.backends.split(",") if n.strip()]
    unknown = [n for n in names if n not in backends.BACKENDS]
    if unknown:
        parser.error(f"--backends: unknown {unknown}; choose from {', '.join(backends.BACKENDS)}")
    gflops, flops = matmul_gflops(), step_flops_per_example()
    rows = []
    for name in names:
        for row in measure_backend(name, args):
            if row["mode"] in MODES and "examples_per_sec" in row:
                row["bound_fraction"] = row["examples_per_sec"] * flops / (gflops * 1e9)
            rows.append(row)
            if args.json:
                print(json.dumps(row), flush=True)
    if not args.json:
        print_table(rows, gflops, flops, args.repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
