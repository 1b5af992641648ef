"""``python -m dcgan.compare``: the same DCGAN job in each framework, side by side.

Each backend trains in its own process (``python -m dcgan.compare --worker``,
which runs ``dcgan.<backend>.train``) from the same canonical initial
weights, on the same images in the same order with the same noise
(``dcgan.randomness``) and the same hyperparameters. The output folder holds::

    initial.safetensors     the shared starting weights
    <backend>/              each backend's run folder (samples, losses, quality, weights)
    <backend>.json          what its worker measured (speed, memory, version, device)
    <backend>-outputs.npz   its nets' outputs from the initial weights (for parity)
    <backend>-seed<N>/      the first backend again from another seed (--seed-spread):
                            how far apart two seeds of one framework land
    losses.png              every backend's losses in one plot
    quality.png             every backend's quality metrics per epoch in one plot
    report.md, report.html  the comparison; report.html embeds its images

The quality table (``dcgan.quality``: SWD, FD, precision, recall, classes
covered) answers "did the frameworks learn the same thing?": read the gap
between two frameworks against the gap between two seeds of one.

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
from dcgan.config import BN_INITS, PRESETS, Config, preset_values
from dcgan.datasets import DATASETS
from dcgan.devices import device_label
from dcgan.precision import CPU_PRECISIONS
from dcgan.runs import LOSS_PLOT_FILE, QUALITY_PLOT_FILE, default_run_path, read_metrics
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
    label: str = ""
    seed: int | None = None
    version: str = ""
    device: str = ""
    wall_seconds: float = 0.0
    peak_memory_mb: float = 0.0
    metrics: list[dict] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.label = self.label or self.backend

    @property
    def final_quality(self) -> dict | None:
        """The quality metrics of the run's last evaluated epoch (None without any)."""
        rows = [m["quality"] for m in self.metrics if m.get("quality")]
        return rows[-1] if rows else None

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


def worker(name: str, out: Path, train_argv: list[str], label: str | None = None) -> int:
    """Measure backend ``name``: parity outputs (only for its main run, ``label`` = name),
    then a training run; writes ``<label>.json``."""
    from dcgan.bench import framework_version, peak_memory_mb
    from dcgan.weights import load_weights

    backend = backends.load(name)
    config = Config()
    label = label or name
    result: dict[str, Any] = {"backend": name, "version": framework_version(name)}
    if label == name:
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
    (out / f"{label}.json").write_text(json.dumps(result), encoding="utf-8")
    return status


# ---------------------------------------------------------------------------
# The parent: run the workers, gather, report.

def initial_weights_file(out: Path, seed: int, main_seed: int) -> Path:
    """The starting weights of the runs with ``seed``: the shared file for the main seed."""
    return out / (INITIAL_WEIGHTS_FILE if seed == main_seed else f"initial-seed{seed}.safetensors")


def train_argv(args: argparse.Namespace, name: str, out: Path, seed: int | None = None,
               label: str | None = None) -> list[str]:
    """The ``dcgan.<name>.train`` options of the comparison's run ``label`` (default: the
    backend's main run) of backend ``name`` with ``seed`` (default: ``--seed``)."""
    seed = args.seed if seed is None else seed
    argv = ["--dataset", args.dataset, "--epochs", str(args.epochs), "--preset", args.preset,
            "--batch-size", str(args.batch_size), "--lr", str(args.lr),
            "--num-images", str(args.num_images), "--num-workers", str(args.num_workers),
            "--seed", str(seed), "--device", "cpu", "--precision", args.precision,
            "--eval-every", str(args.eval_every),
            "--init-from", str(initial_weights_file(out, seed, args.seed)),
            "--out", str(out / (label or name))]
    if args.data_root:
        argv += ["--data-root", args.data_root]
    return argv


def run_backend(name: str, args: argparse.Namespace, out: Path,
                seed: int | None = None) -> BackendResult:
    """Run one backend's worker in a fresh process (with ``seed``, default ``--seed``); a
    failure becomes the result's error."""
    seed = args.seed if seed is None else seed
    label = name if seed == args.seed else f"{name}-seed{seed}"
    reason = backends.missing_reason(name)
    if reason is not None:
        return BackendResult(name, error=reason, label=label, seed=seed)
    command = [sys.executable, "-m", "dcgan.compare", "--worker", name, "--label", label,
               "--out", str(out), "--", *train_argv(args, name, out, seed, label)]
    log = out / f"{label}.log"
    print(f"compare: training {label} (log: {log})", file=sys.stderr, flush=True)
    with open(log, "w", encoding="utf-8") as f:
        completed = subprocess.run(command, stdout=f, stderr=subprocess.STDOUT)
    summary = out / f"{label}.json"
    if completed.returncode != 0 or not summary.exists():
        lines = [line for line in log.read_text(encoding="utf-8", errors="replace").splitlines()
                 if line.strip() and not line.startswith("epoch ")]
        errors = [line for line in lines if ": error: " in line] or lines
        return BackendResult(name, error=f"exit {completed.returncode}: "
                                         f"{errors[-1] if errors else 'no output'} "
                                         f"(see {log.name})", label=label, seed=seed)
    data = json.loads(summary.read_text(encoding="utf-8"))
    return BackendResult(name, label=label, seed=seed, version=data["version"],
                         device=data["device"], wall_seconds=data["wall_seconds"],
                         peak_memory_mb=data["peak_memory_mb"],
                         metrics=read_metrics(out / label))


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
            rows.append([r.label, "not run: " + r.error, "", "", "", "", "", ""])
            continue
        last = r.metrics[-1] if r.metrics else {}
        rows.append([r.label, "ok", f"{r.examples_per_sec:.1f}", f"{r.wall_seconds:.1f}",
                     f"{r.peak_memory_mb:.0f}", r.version, r.device,
                     f"{last.get('loss_D', float('nan')):.3f} / "
                     f"{last.get('loss_G', float('nan')):.3f}"])
    return rows


RESULT_HEADER = ["backend", "status", "examples/sec", "wall time (s)", "peak memory (MiB)",
                 "framework version", "device", "final loss_D / loss_G"]


QUALITY_HEADER = ["run", "seed", "samples", "SWD x1e3", "FD (classifier features)", "precision",
                  "recall", "classes covered"]


def _quality_cells(q: dict) -> list[str]:
    cells = [str(q["samples"]), f"{q['swd_average']:.1f}"]
    if "fd" in q:
        cells += [f"{q['fd']:.1f}", f"{q['precision']:.3f}", f"{q['recall']:.3f}",
                  f"{q['classes_covered']}/{q['classes_present']}"]
    return cells + [""] * (len(QUALITY_HEADER) - 2 - len(cells))


def _quality_rows(results: list[BackendResult]) -> list[list[str]]:
    measured = [r for r in results if r.final_quality]
    rows = [[r.label, str(r.seed), *_quality_cells(r.final_quality)] for r in measured]
    if measured:
        rows.append(["real images (noise floor)", "",
                     *_quality_cells(measured[0].final_quality["noise_floor"])])
    return rows


def _gap(a: BackendResult, b: BackendResult, key: str) -> float:
    return abs(a.final_quality.get(key, float("nan")) - b.final_quality.get(key, float("nan")))


def quality_spread(results: list[BackendResult], main_seed: int) -> str:
    """How far apart the frameworks' final SWD and FD land, read against how far apart
    two seeds of one framework land."""
    main = [r for r in results if r.final_quality and r.seed == main_seed]
    others = [r for r in results if r.final_quality and r.seed != main_seed]
    parts, pairs = [], list(itertools.combinations(main, 2))
    if pairs:
        parts.append(f"Largest gap between frameworks: "
                     f"SWD {max(_gap(a, b, 'swd_average') for a, b in pairs):.1f}, "
                     f"FD {max(_gap(a, b, 'fd') for a, b in pairs):.1f}.")
    for other in others:
        twin = next((r for r in main if r.backend == other.backend), None)
        if twin is not None:
            parts.append(f"Two seeds of {other.backend} ({main_seed} and {other.seed}): "
                         f"SWD {_gap(twin, other, 'swd_average'):.1f}, "
                         f"FD {_gap(twin, other, 'fd'):.1f} apart.")
    if pairs and len(parts) == 2:
        seeds = [r for r in others if any(m.backend == r.backend for m in main)]
        twin = next(m for m in main if m.backend == seeds[0].backend)
        within = all(max(_gap(a, b, key) for a, b in pairs) <= _gap(twin, seeds[0], key)
                     for key in ("swd_average", "fd"))
        parts.append("The frameworks lie within the spread of two seeds of one framework: "
                     "as far as these metrics tell, they learned the same thing." if within
                     else "The frameworks lie further apart than two seeds of one framework "
                     "on at least one metric; one pair of seeds is a rough yardstick, so read "
                     "this with the samples and more seeds before concluding.")
    return " ".join(parts) or "Fewer than two runs measured their quality."


def _parity_rows(parity: list[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    keys = [f"{net} {mode}" for mode in PARITY_MODES for net in ("net_G", "net_D")]
    return (["backends", *[f"max abs. difference, {k}" for k in keys]],
            [[row["pair"], *[f"{row[k]:.2e}" for k in keys]] for row in parity])


def write_markdown(path: Path, title: str, setup: str, results: list[BackendResult],
                   parity: list[dict[str, Any]], grids: dict[str, Path], spread: str) -> Path:
    """``report.md``: the comparison, with the images as files beside it."""
    parity_header, parity_rows = _parity_rows(parity)
    quality_rows = _quality_rows(results)
    parts = [f"# {title}", setup, "## Losses", f"![losses of all backends]({LOSS_PLOT_FILE})",
             "## Backends", _table(RESULT_HEADER, _result_rows(results)),
             "## Sample quality",
             (_table(QUALITY_HEADER, quality_rows) + "\n\n" + spread + "\n\n"
              + f"![quality of all backends per epoch]({QUALITY_PLOT_FILE})")
             if quality_rows else "No run measured its samples' quality (--eval-every 0).",
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
               parity: list[dict[str, Any]], grids: dict[str, Path], losses: Path,
               spread: str) -> Path:
    """``report.html``: the same content as ``report.md``, one self-contained file."""
    parity_header, parity_rows = _parity_rows(parity)
    quality_rows = _quality_rows(results)
    quality_plot = path.parent / QUALITY_PLOT_FILE
    quality = (f"{_html_table(QUALITY_HEADER, quality_rows)}<p>{html.escape(spread)}</p>"
               f'<img alt="quality of all backends per epoch" src="{_data_uri(quality_plot)}">'
               if quality_rows and quality_plot.exists()
               else "<p>No run measured its samples' quality (--eval-every 0).</p>")
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
<h2>Sample quality</h2>{quality}
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
    from dcgan.plotting import save_loss_plot, save_quality_plot

    finished = {r.label: r.metrics for r in results if not r.error and r.metrics}
    losses = save_loss_plot(finished, out / LOSS_PLOT_FILE,
                            title="DCGAN losses per backend" if finished else "no finished run")
    if any(r.final_quality for r in results):
        save_quality_plot(finished, out / QUALITY_PLOT_FILE, title="DCGAN per run")
    grids = {n: g for n in finished if (g := last_sample_grid(out, n)) is not None}
    parity = parity_table(out, [r.backend for r in results if r.seed == args.seed])
    spread = quality_spread(results, args.seed)
    epochs = f"{args.epochs} epoch" + ("" if args.epochs == 1 else "s")
    title = f"DCGAN in {len({r.backend for r in results})} frameworks: {args.dataset}, {epochs}"
    setup = (f"Same initial weights ({INITIAL_WEIGHTS_FILE}, seed {args.seed}), images, order, "
             f"noise and hyperparameters (batch size {args.batch_size}, lr {args.lr}, "
             f"precision {args.precision}, "
             f"BatchNorm scale and shift starting at "
             f"{'1 and 0' if args.bn_init == 'one' else 'N(0, 0.02)'}, "
             f"{args.num_images} images where the dataset is synthetic); each backend in its "
             f"own process on {platform.machine()} with {os.cpu_count()} cores, "
             f"{time.strftime('%Y-%m-%d %H:%M')}. Examples/sec over all epochs, the first "
             f"(with compilation) included.")
    return (write_markdown(out / "report.md", title, setup, results, parity, grids, spread),
            write_html(out / "report.html", title, setup, results, parity, grids, losses,
                       spread))


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
    parser.add_argument("--epochs", metavar="N", type=positive_int, default=2,
                        help="number of epochs")
    parser.add_argument("--preset", choices=list(PRESETS), default=d.preset,
                        help="the chapter's or the DCGAN paper's learning rate and batch size")
    parser.add_argument("--batch-size", type=positive_int, default=None,
                        help="images per training step (default: the preset's)")
    parser.add_argument("--lr", type=positive_float, default=None,
                        help="Adam learning rate (default: the preset's)")
    parser.add_argument("--bn-init", choices=BN_INITS, default=d.bn_init,
                        help="BatchNorm's starting scale and shift in the shared initial "
                             "weights (as for training)")
    parser.add_argument("--num-images", type=positive_int, default=d.num_images,
                        help="number of images of the sprites dataset")
    parser.add_argument("--num-workers", type=non_negative_int, default=d.num_workers,
                        help="input pipeline workers of each run (0: none)")
    parser.add_argument("--seed", metavar="N", type=non_negative_int, default=d.seed,
                        help="the shared initial weights, image order and noise")
    parser.add_argument("--eval-every", metavar="N", type=non_negative_int,
                        default=d.eval_every,
                        help="measure each run's sample quality every N epochs (0: never)")
    parser.add_argument("--precision", choices=CPU_PRECISIONS, default="fp32",
                        help="every run's arithmetic on the CPU (dcgan/precision.py); a "
                             "backend that cannot run it is reported with the reason")
    parser.add_argument("--seed-spread", action=argparse.BooleanOptionalAction, default=True,
                        help="train the first backend again from seed + 1, so the report "
                             "can read the frameworks' gap against a gap between two seeds")
    parser.add_argument("--out", default=None, metavar="DIR",
                        help="output folder (default: runs/compare-<time>)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--label", help=argparse.SUPPRESS)
    parser.add_argument("train_argv", nargs="*", help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run every requested backend and write ``report.md`` and ``report.html``."""
    parser = build_parser()
    args = parser.parse_args(argv)
    args.lr, args.batch_size = preset_values(args.preset, args.lr, args.batch_size)
    if args.worker:
        return worker(args.worker, Path(args.out), args.train_argv, args.label)
    names = [n.strip() for n in args.backends.split(",") if n.strip()]
    unknown = [n for n in names if n not in backends.BACKENDS]
    if unknown or not names:
        parser.error(f"--backends: unknown {unknown or 'none given'}; choose from "
                     f"{', '.join(backends.BACKENDS)}")
    out = Path(args.out) if args.out else default_run_path("compare")
    if (out / "report.html").exists():
        parser.error(f"{out} already holds a comparison; choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    save_weights(out / INITIAL_WEIGHTS_FILE, init_weights(args.seed, bn_init=args.bn_init))
    results = [run_backend(name, args, out) for name in names]
    first = next((r for r in results if not r.error), None)
    if args.seed_spread and first is not None:
        save_weights(initial_weights_file(out, args.seed + 1, args.seed),
                     init_weights(args.seed + 1, bn_init=args.bn_init))
        results.append(run_backend(first.backend, args, out, seed=args.seed + 1))
    markdown, page = write_reports(out, args, results)
    print(f"wrote {markdown} and {page}", file=sys.stderr)
    return 0 if any(not r.error for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
