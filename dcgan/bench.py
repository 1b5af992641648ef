"""``python -m dcgan.bench``: how fast each backend trains the chapter's DCGAN.

Each backend runs in its own process (so that one framework's threads and
memory do not disturb another's) and reports, from the same canonical
weights and the same random batches:

* ``default``: examples/sec of the training step as ``train`` runs it
  (compiled, tuned memory layout, the package's thread and kernel settings);
  ``eager``: the chapter's step as the book writes it, in the environment a
  user gets by default (``DCGAN_FRAMEWORK_DEFAULTS=1``: the package applies
  none of its settings); with ``--compile``, ``compiled``: the step of
  ``train --compile`` (``torch.compile``, CUDA graphs on a GPU; XLA in
  TensorFlow), its compilation in the untimed warm-up steps. Each step ends
  with the losses read as Python floats, which forces the work to complete
  before the clock stops.
* ``pipeline``: images/sec of the backend's file pipeline over the sprites,
  and the share of a training epoch spent waiting for data; ``memory``: the
  same for the images held in memory on the device (``--input memory``).
* ``cli``: examples/sec of a whole ``python -m dcgan.<backend>.train`` run
  (two epochs of the sprites, the second's rate; ``--input auto``, no quality
  evaluation), and the table's ratio of it to the default step's.
* peak memory (resident set) of the process.

``--device gpu`` runs all of it on the GPU (a backend whose framework sees
none there is a row with the reason), and the bound comes from PyTorch's
matrix multiply at each precision on that GPU.

``--precision fp32,bf16`` measures both step modes at each precision in one
run (``dcgan.precision``: fp32, bf16, fp16, and tf32 on a GPU) and prints
each backend's ratio of the default step at bf16 to fp32; a precision a
backend refuses is a row with its reason.

The two step modes run ``--repeats`` times each, alternating (default, eager,
default, ...), and the table shows each mode's fastest run, as for the
matmul rate: on a shared machine a slower run measures a busy neighbour, not
the code (the advice of Python's ``timeit``), and alternating spreads such
interference over both modes.

The machine's matrix-multiply rate (on the CPU numpy's BLAS in float32, at
every precision: its bound; on a GPU PyTorch's at each precision) and the
FLOPs of one step per example (from the layer shapes in ``dcgan.shapes``)
give the arithmetic bound, and each step's fraction of it. Where the probe
is slower than the frameworks' convolution kernels the fraction exceeds 1:
the bound is then a floor of the machine's real peak. No test times anything.
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
from dcgan.devices import requested_device
from dcgan.precision import CPU_PRECISIONS, PRECISIONS
from dcgan.shapes import Layer, array_in_layout, discriminator_layers, generator_layers
from dcgan.startup import FRAMEWORK_DEFAULTS_ENV

MODES = ("default", "eager")
"""The step's modes, measured per precision (and ``compiled`` with ``--compile``)."""
COMPILED_MODE = "compiled"
INPUT_MODES = ("pipeline", "memory")
"""The input paths, measured at fp32 (``--input``)."""
CLI_MODE = "cli"
"""A whole training run of the command line, measured per precision."""

_TORCH_DTYPES = {"fp32": "float32", "tf32": "float32", "bf16": "bfloat16", "fp16": "float16"}


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


def torch_matmul_gflops(precision: str, device: str = "cuda", n: int = 8192,
                        repeats: int = 5) -> float:
    """PyTorch's matrix-multiply rate on ``device`` at ``precision`` (tf32: float32 with
    TensorFloat-32 on; fp32: off), best of ``repeats``: a GPU's bound."""
    import torch

    if device != "cpu" and not torch.cuda.is_available():
        raise ValueError("--device gpu: PyTorch, which measures the GPU's bound, sees no "
                         "CUDA GPU here; use --device cpu")
    dtype = getattr(torch, _TORCH_DTYPES[precision])
    tf32_before = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = precision == "tf32"
    try:
        generator = torch.Generator(device).manual_seed(0)
        a, b = (torch.randn(n, n, device=device, dtype=dtype, generator=generator)
                for _ in range(2))
        best = float("inf")
        for _ in range(repeats + 1):  # the first one warms up
            start = time.perf_counter()
            float((a @ b)[0, 0])  # reading a value waits for the product
            best = min(best, time.perf_counter() - start)
    finally:
        torch.backends.cuda.matmul.allow_tf32 = tf32_before
    return 2 * n ** 3 / best / 1e9


def matmul_bounds(device: str, precisions: list[str]) -> dict[str, float]:
    """GFLOP/s of a matrix multiply for each precision: on the CPU numpy's float32 rate for
    all of them (16 bits has no faster units on most CPUs, and numpy has none), on a GPU
    PyTorch's at each precision."""
    if device == "cpu":
        rate = matmul_gflops()
        return {precision: rate for precision in precisions}
    return {precision: torch_matmul_gflops(precision) for precision in precisions}


def gpu_model() -> str:
    """The GPU's name as PyTorch reports it."""
    import torch

    return torch.cuda.get_device_name(0)


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


def _step_on(backend: Any, device: Any, mode: str = "default") -> Callable:
    """The backend's training step from the shared initial weights, its nets on ``device``."""
    from dcgan.weights import init_weights

    weights = init_weights(0)
    net_D, net_G = backend.net_D(), backend.net_G()
    backend.from_canonical(net_D, weights["net_D"])
    backend.from_canonical(net_G, weights["net_G"])
    net_D, net_G = backend.to_device(net_D, device), backend.to_device(net_G, device)
    trainer_D, trainer_G = backend.make_trainers(net_D, net_G, lr=0.005)
    return backend.make_step(net_D, net_G, backend.make_loss(), trainer_D, trainer_G, 100,
                             eager=mode == "eager", compile=mode == COMPILED_MODE)


def measure_step(backend: Any, mode: str, batch_size: int, steps: int, warmup: int,
                 device: Any = None) -> float:
    """Examples/sec of ``backend``'s step in ``mode`` on random batches, on ``device``
    (default: the CPU)."""
    device = device or backend.resolve_device("cpu")
    step = _step_on(backend, device, mode)
    rng = np.random.default_rng(1)
    X = backend.as_tensor(array_in_layout(
        rng.uniform(-1, 1, (batch_size, 3, 64, 64)).astype(np.float32), backend.LAYOUT), device)
    Z = backend.as_tensor(array_in_layout(
        rng.standard_normal((batch_size, 100, 1, 1)).astype(np.float32), backend.LAYOUT),
        device)
    for _ in range(warmup):
        _read(step(X, Z))
    start = time.perf_counter()
    unread = step(X, Z)
    for _ in range(steps - 1):  # as dcgan.loop does: queue a step, then read the last one's
        queued = step(X, Z)
        _read(unread)
        unread = queued
    _read(unread)  # the last step has completed
    return steps * batch_size / (time.perf_counter() - start)


def _read(losses: tuple[Any, Any]) -> tuple[float, float]:
    """A step's losses as Python floats, which waits for the step to complete."""
    return float(losses[0]), float(losses[1])


def measure_input(backend: Any, batch_size: int, steps: int, in_memory: bool = False,
                  device: Any = None) -> dict[str, float]:
    """Images/sec of an input path alone (the file pipeline, or the images held in memory on
    ``device``), and the share of a training epoch (``steps`` batches of the default step)
    spent waiting for the next batch."""
    from dcgan.datasets import sprites

    device = device or backend.resolve_device("cpu")
    with tempfile.TemporaryDirectory() as root:
        folder = sprites(root, count=batch_size * steps)
        data = backend.load_data(folder, batch_size, num_workers=2, seed=0, in_memory=in_memory,
                                 device=device)
        list(data)  # warm: worker start-up, file cache, compilation
        start = time.perf_counter()
        # as_numpy waits for each batch to be complete, on any device
        images = sum(int(backend.as_numpy(X).shape[0]) for X, _ in data)
        images_per_sec = images / (time.perf_counter() - start)

        step = _step_on(backend, device)
        Z = backend.as_tensor(array_in_layout(np.random.default_rng(2).standard_normal(
            (batch_size, 100, 1, 1)).astype(np.float32), backend.LAYOUT), device)
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
            _read(step(X, Z if X.shape[0] == batch_size else Z[:X.shape[0]]))
        epoch = time.perf_counter() - start
    return {"examples_per_sec": images_per_sec, "data_wait_fraction": waiting / epoch}


def measure_cli(backend: Any, batch_size: int, steps: int, device_choice: str,
                precision: str) -> float:
    """Examples/sec of the second epoch of a ``python -m dcgan.<backend>.train`` run over
    ``steps`` batches of sprites: the whole command's rate once it is warm."""
    with tempfile.TemporaryDirectory() as root:
        out = os.path.join(root, "run")
        status = backend.main([
            "--dataset", "sprites", "--num-images", str(batch_size * steps), "--data-root", root,
            "--batch-size", str(batch_size), "--epochs", "2", "--eval-every", "0",
            "--device", device_choice, "--precision", precision, "--out", out])
        if status != 0:
            raise RuntimeError(f"the training command exited with {status}")
        with open(os.path.join(out, "metrics.jsonl"), encoding="utf-8") as metrics:
            return json.loads(metrics.read().splitlines()[-1])["examples_per_sec"]


def framework_version(name: str) -> str:
    """The installed version of the framework behind backend ``name`` (each backend is named
    after its framework's distribution: torch, tensorflow, mxnet, jax)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "?"


def worker(name: str, mode: str, batch_size: int, steps: int, warmup: int,
           precision: str = "fp32", device_choice: str = "cpu") -> dict[str, Any]:
    """One measurement in this process, on ``device_choice`` (cpu, gpu) at ``precision``;
    returns its JSON row."""
    backend = backends.load(name)
    row: dict[str, Any] = {"backend": name, "mode": mode, "batch_size": batch_size,
                           "version": framework_version(name)}
    device = backend.resolve_device(device_choice)
    if mode not in INPUT_MODES:
        row["precision"] = backend.use_precision(precision, device)
    if mode in INPUT_MODES:
        row.update(measure_input(backend, batch_size, steps, mode == "memory", device))
    elif mode == CLI_MODE:
        row["examples_per_sec"] = measure_cli(backend, batch_size, steps, device_choice,
                                              precision)
    else:
        row["examples_per_sec"] = measure_step(backend, mode, batch_size, steps, warmup,
                                               device)
    row["peak_memory_mb"] = peak_memory_mb()
    return row


def run_in_subprocess(name: str, mode: str, args: argparse.Namespace,
                      precision: str = "fp32") -> dict[str, Any]:
    """Run :func:`worker` in a fresh process; a failure becomes a row with its reason."""
    failed = {"backend": name, "mode": mode, "batch_size": args.batch_size}
    if mode not in INPUT_MODES:
        failed["precision"] = precision
    reason = backends.missing_reason(name)
    if reason is not None:
        return {**failed, "error": reason}
    command = [sys.executable, "-m", "dcgan.bench", "--worker", name, "--mode", mode,
               "--batch-size", str(args.batch_size), "--steps", str(args.steps),
               "--warmup", str(args.warmup), "--precision", precision, "--device", args.device]
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
    alternating runs), then the input paths', then the command line's at each precision."""
    modes = MODES + ((COMPILED_MODE,) if args.compile else ())
    cases = [(mode, precision) for precision in args.precision for mode in modes]
    runs: dict[tuple[str, str], list[dict[str, Any]]] = {case: [] for case in cases}
    for _ in range(args.repeats):
        for mode, precision in cases:
            runs[mode, precision].append(run_in_subprocess(name, mode, args, precision))
    rows = [fastest_run(runs[case]) for case in cases]
    rows += [run_in_subprocess(name, mode, args) for mode in INPUT_MODES]
    return rows + [run_in_subprocess(name, CLI_MODE, args, precision)
                   for precision in args.precision]


def print_table(rows: list[dict[str, Any]], bounds: dict[str, float], flops: float,
                repeats: int = 1, machine: str | None = None) -> None:
    """The human-readable summary of the JSON rows; ``bounds``: the matmul GFLOP/s of each
    precision, ``machine``: what ran them (default: this CPU)."""
    machine = machine or f"{cpu_model()}, {os.cpu_count()} cores"
    rates = "; ".join(f"{precision} matmul {gflops:.0f} GFLOP/s, arithmetic bound "
                      f"{gflops * 1e9 / flops:.1f} examples/sec"
                      for precision, gflops in bounds.items())
    print(f"machine: {machine}; one step {flops / 1e9:.2f} GFLOP/example; {rates}")
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
    _print_ratios(rows, "compiled step against the default step",
                  lambda r: r.get("precision") == "fp32", "mode", COMPILED_MODE, "default")
    for precision in sorted({r["precision"] for r in rows if r["mode"] == CLI_MODE}):
        _print_ratios(rows, f"whole training command against its default step ({precision})",
                      lambda r: r.get("precision") == precision, "mode", CLI_MODE, "default")


def _print_ratios(rows: list[dict[str, Any]], title: str, among: Callable[[dict], bool],
                  key: str, faster: str, slower: str) -> None:
    """One line of each backend's examples/sec ratio between the rows whose ``key`` is
    ``faster`` and ``slower``, among the successful rows that ``among`` keeps."""
    ratios = []
    for name in sorted({r["backend"] for r in rows}):
        kept = {r[key]: r for r in rows if r["backend"] == name and "error" not in r
                and r["mode"] not in INPUT_MODES and among(r)}
        if faster in kept and slower in kept:
            ratio = kept[faster]["examples_per_sec"] / kept[slower]["examples_per_sec"]
            ratios.append(f"{name} {ratio:.2f}x")
    if ratios:
        print(f"{title}: " + ", ".join(ratios))


_BENCH_PRECISIONS = tuple(p for p in PRECISIONS if p != "auto")


def precision_list(text: str) -> list[str]:
    """``--precision``'s comma-separated precisions, checked (argparse's type)."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    wrong = [name for name in names if name not in _BENCH_PRECISIONS]
    if not names or wrong:
        raise argparse.ArgumentTypeError(
            f"{text!r}: choose from {', '.join(_BENCH_PRECISIONS)}, separated by commas")
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
                        help="the step's arithmetic, several separated by commas "
                             "(fp32,bf16 measures both in one run): fp32, bf16, fp16, and "
                             "tf32 on a GPU")
    parser.add_argument("--device", choices=("cpu", "gpu", "cuda"), default="cpu",
                        help="where every backend runs; the GPU's bound is PyTorch's "
                             "matrix multiply at each precision")
    parser.add_argument("--compile", action="store_true",
                        help="also measure the step of train --compile (torch.compile, "
                             "XLA), its compilation in the warm-up steps")
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
                                args.warmup, args.precision[0], args.device)))
        return 0
    names = [n.strip() for n in args.backends.split(",") if n.strip()]
    unknown = [n for n in names if n not in backends.BACKENDS]
    if unknown:
        parser.error(f"--backends: unknown {unknown}; choose from {', '.join(backends.BACKENDS)}")
    args.device = requested_device(args.device)
    cpu_only = [p for p in args.precision if p not in CPU_PRECISIONS]
    if args.device == "cpu" and cpu_only:
        parser.error(f"--precision {','.join(cpu_only)}: a GPU's arithmetic; on the CPU "
                     f"measure {', '.join(CPU_PRECISIONS)}, or add --device gpu")
    try:
        bounds = matmul_bounds(args.device, args.precision)
    except (ValueError, ImportError) as err:
        parser.error(str(err) if isinstance(err, ValueError) else
                     f"--device gpu: the GPU's bound is measured with PyTorch, which is not "
                     f"installed here ({err})")
    flops = step_flops_per_example()
    rows = []
    for name in names:
        for row in measure_backend(name, args):
            if row["mode"] not in INPUT_MODES and "examples_per_sec" in row:
                row["bound_fraction"] = (row["examples_per_sec"] * flops
                                         / (bounds[row["precision"]] * 1e9))
            rows.append(row)
            if args.json:
                print(json.dumps(row), flush=True)
    if not args.json:
        print_table(rows, bounds, flops, args.repeats,
                    None if args.device == "cpu" else f"{gpu_model()} (cpu {cpu_model()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
