"""``python -m dcgan.compare``: the same DCGAN job in each framework, side by side.

Each backend trains in its own process (``python -m dcgan.compare --worker``,
which runs ``dcgan.<backend>.train``) from the same canonical initial
weights, on the same images in the same order with the same noise
(``dcgan.randomness``) and the same hyperparameters. The output folder holds::

    initial.safetensors     the shared starting weights
    <backend>/              each backend's run folder (samples, losses, weights)
    <backend>.json          what its worker measured (speed, memory, version, device)
    <backend>-outputs.npz   its nets' outputs from the initial weights (for parity)
    losses.png              every backend's losses in one plot
    report.md, report.html  the comparison; report.html embeds its images

A backend that is not installed, or whose run fails, appears in the report
with the reason, and the others still run.
"""

from __future__ import annotations

import argparse
import base64
import html
import itertools
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dcgan import backend as backends
from dcgan.cli import Parser, non_negative_int, positive_float, positive_int
from dcgan.config import Config
from dcgan.devices import device_label
from dcgan.datasets import DATASETS
from dcgan.runs import LOSS_PLOT_FILE, default_run_path, read_metrics
from dcgan.shapes import array_in_layout, array_to_nchw
from dcgan.weights import init_weights, save_weights

INITIAL_WEIGHTS_FILE = "initial.safetensors"
PARITY_MODES = ("training", "inference")
PARITY_BATCH = 8


@dataclass
class BackendResult:
    """One backend's part of the comparison: its measurements, or why it has none."""

    backend: str
    error: str | None = None
    version: str = ""
    device: str = ""
    wall_seconds: float = 0.0
    peak_memory_mb: float = 0.0
    metrics: list[dict] = field(default_factory=list)

    @property
    def examples_per_sec(self) -> float:
        """Training throughput over all epochs (examples over the epochs' seconds)."""
        seconds = sum(m["seconds"] for m in self.metrics)
        return sum(m["examples"] for m in self.metrics) / seconds if seconds else 0.0


# ---------------------------------------------------------------------------
# The worker: one backend, in its own process.

def parity_inputs(latent_dim: int, seed: int = 0) -> dict[str, np.ndarray]:
    """The noise and the images (NCHW) on which every backend's initial nets are compared."""
    rng = np.random.default_rng([seed, 99])
    return {"Z": rng.standard_normal((PARITY_BATCH, latent_dim, 1, 1)).astype(np.float32),
            "X": rng.uniform(-1, 1, (PARITY_BATCH, 3, 64, 64)).astype(np.float32)}


def parity_outputs(backend: Any, weights: dict, config: Config) -> dict[str, np.ndarray]:
    """Both nets' outputs (NCHW) from ``weights`` on :func:`parity_inputs`, in both BatchNorm
    modes, as ``{"net_G training": ..., ...}``."""
    inputs = parity_inputs(config.latent_dim, config.seed)
    outputs = {}
    for mode in PARITY_MODES:
        for net_name, make, x in (("net_G", lambda: backend.net_G(config.latent_dim), "Z"),
                                  ("net_D", lambda: backend.net_D(alpha=config.alpha), "X")):
            net = make()  # fresh nets: a training-mode pass moves the running statistics
            backend.from_canonical(net, weights[net_name])
            y = backend.forward(net, backend.as_tensor(array_in_layout(inputs[x], backend.LAYOUT)),
                                training=mode == "training")
            outputs[f"{net_name} {mode}"] = array_to_nchw(backend.as_numpy(y), backend.LAYOUT)
    return outputs


def worker(name: str, out: Path, train_argv: list[str]) -> int:
    """Measure backend ``name``: parity outputs, then a training run; writes ``<name>.json``."""
    from dcgan.bench import framework_version, peak_memory_mb
    from dcgan.weights import load_weights

    backend = backends.load(name)
    config = Config()
    result: dict[str, Any] = {"backend": name, "version": framework_version(name)}
    np.savez(out / f"{name}-outputs.npz",
             **parity_outputs(backend, load_weights(out / INITIAL_WEIGHTS_FILE), config))
    start = time.perf_counter()
    try:
        status = backend.main(train_argv)
    except SystemExit as exit_:  # argparse's usage errors
        status = exit_.code if isinstance(exit_.code, int) else 2
    result.update(exit=status, wall_seconds=time.perf_counter() - start,
                  peak_memory_mb=peak_memory_mb(),
                  device=device_label(backend.resolve_device("cpu")))
    (out / f"{name}.json").write_text(json.dumps(result), encoding="utf-8")
    return status


# ---------------------------------------------------------------------------
# The parent: run the workers, gather, report.

def train_argv(args: argparse.Namespace, name: str, out: Path) -> list[str]:
    """The ``dcgan.<name>.train`` options of the comparison's run for backend ``name``."""
    argv = ["--dataset", args.dataset, "--epochs", str(args.epochs),
            "--batch-size", str(args.batch_size), "--lr", str(args.lr),
            "--num-images", str(args.num_images), "--num-workers", str(args.num_workers),
            "--seed", str(args.seed), "--device", "cpu",
            "--init-from", str(out / INITIAL_WEIGHTS_FILE), "--out", str(out / name)]
    if args.data_root:
        argv += ["--data-root", args.data_root]
    return argv


def run_backend(name: str, args: argparse.Namespace, out: Path) -> BackendResult:
    """Run one backend's worker in a fresh process; a failure becomes the result's error."""
    reason = backends.missing_reason(name)
    if reason is not None:
        return BackendResult(name, error=reason)
    command = [sys.executable, "-m", "dcgan.compare", "--worker", name, "--out", str(out),
               "--", *train_argv(args, name, out)]
    log = out / f"{name}.log"
    print(f"compare: training {name} (log: {log})", file=sys.stderr, flush=True)
    with open(log, "w", encoding="utf-8") as f:
        completed = subprocess.run(command, stdout=f, stderr=subprocess.STDOUT)
    summary = out / f"{name}.json"
    if completed.returncode != 0 or not summary.exists():
        lines = [line for line in log.read_text(encoding="utf-8", errors="replace").splitlines()
                 if line.strip() and not line.startswith("epoch ")]
        errors = [line for line in lines if ": error: " in line] or lines
        return BackendResult(name, error=f"exit {completed.returncode}: "
                                         f"{errors[-1] if errors else 'no output'} "
                                         f"(see {log.name})")
    data = json.loads(summary.read_text(encoding="utf-8"))
    return BackendResult(name, version=data["version"], device=data["device"],
                         wall_seconds=data["wall_seconds"],
                         peak_memory_mb=data["peak_memory_mb"],
                         metrics=read_metrics(out / name))


def parity_table(out: Path, names: list[str]) -> list[dict[str, Any]]:
    """For each pair of backends with outputs, the max absolute difference of each output."""
    outputs = {n: dict(np.load(out / f"{n}-outputs.npz")) for n in names
               if (out / f"{n}-outputs.npz").exists()}
    rows = []
    for a, b in itertools.combinations(list(outputs), 2):
        rows.append({"pair": f"{a} / {b}",
                     **{key: float(np.abs(outputs[a][key] - outputs[b][key]).max())
                        for key in outputs[a]}})
    return rows


def last_sample_grid(out: Path, name: str) -> Path | None:
    """The sample grid of a backend's last epoch, if its run wrote one."""
    grids = sorted((out / name / "samples").glob("epoch_*.png"))
    return grids[-1] if grids else None


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def _result_rows(results: list[BackendResult]) -> list[list[str]]:
    rows = []
    for r in results:
        if r.error:
            rows.append([r.backend, "not run: " + r.error, "", "", "", "", "", ""])
            continue
        last = r.metrics[-1] if r.metrics else {}
        rows.append([r.backend, "ok", f"{r.examples_per_sec:.1f}", f"{r.wall_seconds:.1f}",
                     f"{r.peak_memory_mb:.0f}", r.version, r.device,
                     f"{last.get('loss_D', float('nan')):.3f} / "
                     f"{last.get('loss_G', float('nan')):.3f}"])
    return rows


RESULT_HEADER = ["backend", "status", "examples/sec", "wall time (s)", "peak memory (MiB)",
                 "framework version", "device", "final loss_D / loss_G"]


def _parity_rows(parity: list[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    keys = [f"{net} {mode}" for mode in PARITY_MODES for net in ("net_G", "net_D")]
    return (["backends", *[f"max abs. difference, {k}" for k in keys]],
            [[row["pair"], *[f"{row[k]:.2e}" for k in keys]] for row in parity])


def write_markdown(path: Path, title: str, setup: str, results: list[BackendResult],
                   parity: list[dict[str, Any]], grids: dict[str, Path]) -> Path:
    """``report.md``: the comparison, with the images as files beside it."""
    parity_header, parity_rows = _parity_rows(parity)
    parts = [f"# {title}", setup, "## Losses", f"![losses of all backends]({LOSS_PLOT_FILE})",
             "## Backends", _table(RESULT_HEADER, _result_rows(results)),
             "## Final samples",
             " ".join(f"![{n}]({p.relative_to(path.parent).as_posix()})" for n, p in grids.items())
             or "No backend finished a run.",
             "## Parity from the shared initial weights",
             _table(parity_header, parity_rows) if parity_rows
             else "Fewer than two backends computed outputs."]
    path.write_text("\n\n".join(parts) + "\n", encoding="utf-8")
    return path


def _data_uri(png: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(png.read_bytes()).decode("ascii")


def _html_table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                   for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def write_html(path: Path, title: str, setup: str, results: list[BackendResult],
               parity: list[dict[str, Any]], grids: dict[str, Path], losses: Path) -> Path:
    """``report.html``: the same content as ``report.md``, one self-contained file."""
    parity_header, parity_rows = _parity_rows(parity)
    figures = "".join(
        f'<figure><img alt="{html.escape(n)} samples" src="{_data_uri(p)}">'
        f"<figcaption>{html.escape(n)}</figcaption></figure>" for n, p in grids.items())
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;max-width:70em;margin:2em auto;padding:0 1em}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.3em .6em;text-align:left}}
figure{{display:inline-block;margin:0 1em 1em 0}}img{{image-rendering:pixelated}}</style>
</head><body>
<h1>{html.escape(title)}</h1><p>{html.escape(setup)}</p>
<h2>Losses</h2><img alt="losses of all backends" src="{_data_uri(losses)}">
<h2>Backends</h2>{_html_table(RESULT_HEADER, _result_rows(results))}
<h2>Final samples</h2>{figures or "<p>No backend finished a run.</p>"}
<h2>Parity from the shared initial weights</h2>
{_html_table(parity_header, parity_rows) if parity_rows
 else "<p>Fewer than two backends computed outputs.</p>"}
</body></html>
"""
    path.write_text(page, encoding="utf-8")
    return path


def write_reports(out: Path, args: argparse.Namespace,
                  results: list[BackendResult]) -> tuple[Path, Path]:
    """The loss plot and both reports from the backends' results."""
    from dcgan.plotting import save_loss_plot

    finished = {r.backend: r.metrics for r in results if not r.error and r.metrics}
    losses = save_loss_plot(finished, out / LOSS_PLOT_FILE,
                            title="DCGAN losses per backend" if finished else "no finished run")
    grids = {n: g for n in finished if (g := last_sample_grid(out, n)) is not None}
    parity = parity_table(out, [r.backend for r in results])
    epochs = f"{args.epochs} epoch" + ("" if args.epochs == 1 else "s")
    title = f"DCGAN in {len(results)} frameworks: {args.dataset}, {epochs}"
    setup = (f"Same initial weights ({INITIAL_WEIGHTS_FILE}, seed {args.seed}), images, order, "
             f"noise and hyperparameters (batch size {args.batch_size}, lr {args.lr}, "
             f"{args.num_images} images where the dataset is synthetic); each backend in its "
             f"own process on {platform.machine()} with {os.cpu_count()} cores, "
             f"{time.strftime('%Y-%m-%d %H:%M')}. Examples/sec over all epochs, the first "
             f"(with compilation) included.")
    return (write_markdown(out / "report.md", title, setup, results, parity, grids),
            write_html(out / "report.html", title, setup, results, parity, grids, losses))


def build_parser() -> argparse.ArgumentParser:
    """The options of ``python -m dcgan.compare``."""
    d = Config()
    parser = Parser(prog="python -m dcgan.compare", description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", default=",".join(backends.BACKENDS),
                        help="comma-separated backends to compare")
    parser.add_argument("--dataset", choices=sorted(DATASETS), default="sprites",
                        help="the dataset every backend trains on")
    parser.add_argument("--data-root", default=None, metavar="PATH",
                        help="dataset cache (default: as for training)")
    parser.add_argument("--epochs", type=positive_int, default=2, help="number of epochs")
    parser.add_argument("--batch-size", type=positive_int, default=d.batch_size,
                        help="images per training step")
    parser.add_argument("--lr", type=positive_float, default=d.lr, help="Adam learning rate")
    parser.add_argument("--num-images", type=positive_int, default=d.num_images,
                        help="number of images of the sprites dataset")
    parser.add_argument("--num-workers", type=non_negative_int, default=d.num_workers,
                        help="input pipeline workers of each run (0: none)")
    parser.add_argument("--seed", type=non_negative_int, default=d.seed,
                        help="the shared initial weights, image order and noise")
    parser.add_argument("--out", default=None, metavar="DIR",
                        help="output folder (default: runs/compare-<time>)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("train_argv", nargs="*", help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run every requested backend and write ``report.md`` and ``report.html``."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args.worker, Path(args.out), args.train_argv)
    names = [n.strip() for n in args.backends.split(",") if n.strip()]
    unknown = [n for n in names if n not in backends.BACKENDS]
    if unknown or not names:
        parser.error(f"--backends: unknown {unknown or 'none given'}; choose from "
                     f"{', '.join(backends.BACKENDS)}")
    out = Path(args.out) if args.out else default_run_path("compare")
    if (out / "report.html").exists():
        parser.error(f"{out} already holds a comparison; choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    save_weights(out / INITIAL_WEIGHTS_FILE, init_weights(args.seed))
    results = [run_backend(name, args, out) for name in names]
    markdown, page = write_reports(out, args, results)
    print(f"wrote {markdown} and {page}", file=sys.stderr)
    return 0 if any(not r.error for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
