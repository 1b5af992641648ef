"""The chapter's first exercise, measured: leaky ReLU (alpha 0.2) against a plain ReLU (0).

    pip install -e ".[torch]" && python docs/alpha_study.py

Trains the PyTorch backend twice on the sprites, changing only ``--alpha``
(the commands in docs/exercises.md), measures each run's samples with
``python -m dcgan.quality`` (1,000 samples), prints the tables quoted in
docs/exercises.md and draws docs/images/exercise-alpha-losses.png and
docs/images/exercise-alpha-samples.png. A run whose folder already holds
weights is not trained again.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ALPHAS = ("0.2", "0")
COMMON = ["--dataset", "sprites", "--num-images", "2000", "--epochs", "5", "--batch-size", "64",
          "--num-workers", "0"]
MEASURED = 1000


def train(alpha: str, runs: Path) -> Path:
    """``python -m dcgan.torch.train ... --alpha ALPHA`` and its quality report, once."""
    out = runs / f"alpha-{alpha}"
    if not (out / "weights.safetensors").exists():
        subprocess.run([sys.executable, "-m", "dcgan.torch.train", *COMMON, "--alpha", alpha,
                        "--out", str(out)], check=True)
    if not (out / "quality.json").exists():
        subprocess.run([sys.executable, "-m", "dcgan.quality", str(out), "--num", str(MEASURED)],
                       check=True, stdout=subprocess.DEVNULL)
    return out


def epochs(run: Path) -> list[dict]:
    """The run's ``metrics.jsonl``, one dict per epoch."""
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def loss_table(runs: dict[str, Path]) -> str:
    """Markdown: both runs' losses and the quality measured after each epoch."""
    rows = ["| epoch | " + " | ".join(f"loss_D, loss_G, SWD, FD (α = {a})" for a in runs)
            + " |", "|---|" + "---|" * len(runs)]
    by_run = [epochs(run) for run in runs.values()]
    for k in range(len(by_run[0])):
        cells = []
        for metrics in by_run:
            m = metrics[k]
            q = m.get("quality") or {}
            cells.append(f"{m['loss_D']:.3f}, {m['loss_G']:.3f}, "
                         f"{q.get('swd_average', float('nan')):.0f}, "
                         f"{q.get('fd', float('nan')):.0f}")
        rows.append(f"| {k + 1} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def quality_table(runs: dict[str, Path]) -> str:
    """Markdown: ``dcgan.quality``'s report of each run beside the noise floor."""
    reports = {a: json.loads((run / "quality.json").read_text()) for a, run in runs.items()}
    floor = next(iter(reports.values()))["noise_floor"]
    keys = [("SWD ×10³", "swd_average", ".1f"), ("FD", "fd", ".1f"),
            ("precision", "precision", ".2f"), ("recall", "recall", ".2f"),
            ("classes covered", "classes_covered", "d")]
    rows = ["| metric | " + " | ".join(f"α = {a}" for a in reports) + " | real images |",
            "|---|" + "---|" * (len(reports) + 1)]
    for label, key, fmt in keys:
        cells = [format(r["metrics"][key], fmt) for r in reports.values()]
        rows.append(f"| {label} | " + " | ".join(cells) + f" | {format(floor[key], fmt)} |")
    return "\n".join(rows)


def draw(runs: dict[str, Path], images: Path) -> None:
    """The two runs' loss curves, and their last sample grids one above the other."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image

    fig, ax = plt.subplots(figsize=(6, 3.2))
    for alpha, run in runs.items():
        metrics = epochs(run)
        x = [m["epoch"] for m in metrics]
        ax.plot(x, [m["loss_D"] for m in metrics], marker="o", label=f"loss_D, α = {alpha}")
        ax.plot(x, [m["loss_G"] for m in metrics], marker="s", linestyle="--",
                label=f"loss_G, α = {alpha}")
    ax.set(xlabel="epoch", ylabel="loss per example")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(images / "exercise-alpha-losses.png", dpi=100)
    plt.close(fig)
    fig, axes = plt.subplots(len(runs), 1, figsize=(7, 2.1 * len(runs)))
    for ax, (alpha, run) in zip(axes, runs.items()):
        ax.imshow(Image.open(sorted((run / "samples").glob("epoch_*.png"))[-1]).convert("RGB"))
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"α = {alpha}, after epoch {len(epochs(run))}", fontsize=9)
    fig.tight_layout()
    fig.savefig(images / "exercise-alpha-samples.png", dpi=100)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    """Train both runs, print the tables, draw the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=Path, default=Path("runs"))
    parser.add_argument("--images", type=Path, default=HERE / "images")
    args = parser.parse_args(argv)
    runs = {alpha: train(alpha, args.runs) for alpha in ALPHAS}
    print(loss_table(runs))
    print()
    print(quality_table(runs))
    draw(runs, args.images)
    return 0


if __name__ == "__main__":
    sys.exit(main())
