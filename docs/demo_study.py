"""Why the README's first command drew gray fields, measured: one run per variant.

    pip install -e ".[torch]" && python docs/demo_study.py

Trains the PyTorch backend on the sprites (2,000 images, seed 0) once per
variant below, each for the same number of images (``--epochs``; a finished run
with fewer is extended with ``--resume``), with the
quality measured after every epoch (``--eval-every 1``: 256 samples, 500 after
the last). Prints the tables quoted in docs/demo-study.md and draws
docs/images/demo-study-grids.png (each variant's last sample grid),
docs/images/demo-study-quality.png (its SWD and FD by step) and
docs/images/demo-study-colour-matched.png (its final samples as drawn and with the real
images' colour statistics). A variant whose run
folder already holds weights is not trained again.

The variants after the first four change what the package's options cannot, to
test causes that the first four leave open: the data (the sprites with white
backgrounds, as the chapter's Pokemon images, :func:`white_sprites`; each
creature at its own size and place, :func:`placed_sprites`; a fixed grain on
every pixel, :func:`grainy_sprites`; no faces, :func:`faceless`; the last three
together) and the discriminator (its first block without BatchNorm, as the DCGAN
paper's; instance noise on every image it sees), by
:func:`train_with_changed_discriminator`.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

HERE = Path(__file__).resolve().parent

PYTORCH_RECIPE = ["--preset", "paper", "--batch-size", "64", "--bn-init", "one"]
"""PyTorch's own DCGAN example's learning rate, batch and BatchNorm start (the paper's
lr 0.0002, batch 64, BatchNorm scale 1): the fourth variant, whose data or discriminator
every variant after it changes."""

COMBINED = "paper, batch 64, BatchNorm 1/0, sprites without faces, placed anywhere, with grain"
"""The variant with the three changes to the sprites' drawing together."""
COMBINED_WITHOUT_FIRST_BATCH_NORM = f"{COMBINED}, no BatchNorm in D's first block"
"""That variant with the discriminator's first block without BatchNorm."""
FRAME_LIKE = "paper, batch 64, BatchNorm 1/0, frame-like sprites"
"""PyTorch's recipe on the sprites drawn as the Pokemon frames look (:func:`frame_like`)."""
FRAME_LIKE_WITHOUT_FIRST_BATCH_NORM = f"{FRAME_LIKE}, no BatchNorm in D's first block"
"""That variant with the discriminator's first block without BatchNorm, which otherwise
hides each batch's brightness, and with it the ground's shade, from the discriminator."""

FRAME_LIKE_BUDGET = ((16, "0.0002"), (32, "0.0002"))
"""Smaller batches than PyTorch's recipe (more steps for the same images), on the
frame-like sprites at the demo's budget: whether either reaches varied samples in the
images that six minutes of two cores allow."""

VARIANTS: dict[str, list[str]] = {
    "chapter": [],
    "chapter, BatchNorm 1/0": ["--bn-init", "one"],
    "paper, BatchNorm 1/0": ["--preset", "paper", "--bn-init", "one"],
    "paper, batch 64, BatchNorm 1/0": PYTORCH_RECIPE,
    "paper, batch 64, BatchNorm 1/0, white backgrounds": PYTORCH_RECIPE,
    "paper, batch 64, BatchNorm 1/0, no BatchNorm in D's first block": PYTORCH_RECIPE,
    "paper, batch 64, BatchNorm 1/0, sprites placed anywhere": PYTORCH_RECIPE,
    "paper, batch 64, BatchNorm 1/0, sprites with grain": PYTORCH_RECIPE,
    "paper, batch 64, BatchNorm 1/0, sprites without faces": PYTORCH_RECIPE,
    COMBINED: PYTORCH_RECIPE,
    COMBINED_WITHOUT_FIRST_BATCH_NORM: PYTORCH_RECIPE,
    "paper, batch 64, BatchNorm 1/0, instance noise 0.1": PYTORCH_RECIPE,
    FRAME_LIKE: PYTORCH_RECIPE,
    "chapter, frame-like sprites": [],
    FRAME_LIKE_WITHOUT_FIRST_BATCH_NORM: PYTORCH_RECIPE,
    **{f"paper, batch {batch}, lr {lr}, BatchNorm 1/0, frame-like sprites":
       ["--preset", "paper", "--batch-size", str(batch), "--lr", lr, "--bn-init", "one"]
       for batch, lr in FRAME_LIKE_BUDGET},
    "paper": ["--preset", "paper"],
}
"""Each variant's options beside ``--dataset sprites --seed 0``: the chapter's and the
DCGAN paper's learning rate and batch size (``--preset``), with BatchNorm's scale and
shift drawn from N(0, 0.02) (the PyTorch and TensorFlow tabs) or set to 1 and 0
(``--bn-init one``, the MXNet tab). The fourth is the recipe of PyTorch's own DCGAN example
(lr 0.0002, batch 64, BatchNorm scale near 1); the ones after it change that recipe's data
(``DATA_CHANGES``) or its discriminator (``DISCRIMINATOR_CHANGES``). The last,
``--preset paper`` alone, is the paper's learning rate and batch with the chapter's
BatchNorm start."""

TRAIN_CHANGED_DISCRIMINATOR = "train-changed-discriminator"
"""The first argument that makes this script train a variant of ``DISCRIMINATOR_CHANGES``
(``python docs/demo_study.py train-changed-discriminator VARIANT TRAIN-OPTIONS``)."""
INSTANCE_NOISE = 0.1
"""The spread of the instance noise, in the images' units ([-1, 1]; 0.1 is 12.75 of 255)."""


def changed_copy(sprites: Path, root: Path, suffix: str,
                 change: Callable[[Any, int], Any]) -> Path:
    """A copy of the image folder ``sprites`` under ``root``, named after it with ``suffix``,
    in which every image is ``change(image, index)`` (an RGB PIL image, and the index its
    file name holds). Made once."""
    from PIL import Image

    from dcgan.datasets.staging import staged_folder

    folder = Path(root) / f"{sprites.name}-{suffix}"
    if folder.is_dir():
        return folder
    with staged_folder(folder) as staging:
        for path in sorted(sprites.glob("*/*.png")):
            (staging / path.parent.name).mkdir(exist_ok=True)
            change(Image.open(path).convert("RGB"), int(path.stem)).save(
                staging / path.parent.name / path.name)
    return folder


def white_sprites(sprites: Path, root: Path) -> Path:
    """A copy of the sprites image folder under ``root`` whose backgrounds are white: each
    image's background (the plain region joined to its top-left corner) filled with
    255, 255, 255, the creature unchanged. Made once."""
    from PIL import ImageDraw

    def whitened(image: Any, index: int) -> Any:
        ImageDraw.floodfill(image, (0, 0), (255, 255, 255), thresh=0)
        return image

    return changed_copy(sprites, root, "white-backgrounds", whitened)


def placed_sprites(sprites: Path, root: Path) -> Path:
    """A copy of the sprites image folder under ``root`` in which each creature has its own
    size and place, as the creatures of the Pokemon frames have: image ``i`` scaled by a
    factor from 0.55 to 1.25 (nearest pixel, so the edges stay as crisp) and moved by up to
    14 pixels each way, seeded by ``i``, on its own background colour. Made once."""
    from PIL import Image

    def placed(image: Any, index: int) -> Any:
        rng = np.random.default_rng([7, index])
        size = round(image.width * rng.uniform(0.55, 1.25))
        dx, dy = rng.integers(-14, 15, size=2)
        offset = (image.width - size) // 2
        moved = Image.new("RGB", image.size, image.getpixel((0, 0)))
        moved.paste(image.resize((size, size), Image.NEAREST),
                    (int(offset + dx), int(offset + dy)))
        return moved

    return changed_copy(sprites, root, "placed-anywhere", placed)


def grainy_sprites(sprites: Path, root: Path, sigma: float = 8.0) -> Path:
    """A copy of the sprites image folder under ``root`` with a fixed grain on every pixel:
    Gaussian noise of ``sigma`` (in 0..255) on each channel, seeded by the image's index, so
    that the flat regions of the drawing are no longer flat, as the shaded and resampled
    Pokemon frames are not. Made once."""
    from PIL import Image

    def grainy(image: Any, index: int) -> Any:
        pixels = np.asarray(image, dtype=np.float32)
        grain = np.random.default_rng([8, index]).normal(0, sigma, pixels.shape)
        return Image.fromarray(np.clip(pixels + grain, 0, 255).round().astype(np.uint8))

    return changed_copy(sprites, root, f"grain-{sigma:g}", grainy)


def faceless(sprites: Path, root: Path) -> Path:
    """The sprites of the folder ``sprites`` (as ``dcgan.datasets.sprites`` names it) drawn
    again under ``root`` without their faces."""
    import re

    from dcgan.datasets import sprites as draw_sprites

    count, size, seed = map(int, re.fullmatch(r"sprites-v\d+-n(\d+)-s(\d+)-seed(\d+)",
                                              sprites.name).groups())
    return draw_sprites(root, count, size, seed, face=False)


def frame_like(sprites: Path, root: Path) -> Path:
    """The sprites of the folder ``sprites`` (as ``dcgan.datasets.sprites`` names it) drawn
    as the Pokemon frames look: the package's ``frame-like-sprites`` of the same count, size
    and seed, made once under ``root``."""
    import re

    from dcgan.datasets import frame_like_sprites

    count, size, seed = map(int, re.fullmatch(r"sprites-v\d+-n(\d+)-s(\d+)-seed(\d+)",
                                              sprites.name).groups())
    return frame_like_sprites(root, count, size, seed)


DATA_CHANGES: dict[str, tuple[Callable[[Path, Path], Path], ...]] = {
    "paper, batch 64, BatchNorm 1/0, white backgrounds": (white_sprites,),
    "paper, batch 64, BatchNorm 1/0, sprites placed anywhere": (placed_sprites,),
    "paper, batch 64, BatchNorm 1/0, sprites with grain": (grainy_sprites,),
    "paper, batch 64, BatchNorm 1/0, sprites without faces": (faceless,),
    COMBINED: (faceless, placed_sprites, grainy_sprites),
    COMBINED_WITHOUT_FIRST_BATCH_NORM: (faceless, placed_sprites, grainy_sprites),
    FRAME_LIKE: (frame_like,),
    "chapter, frame-like sprites": (frame_like,),
    FRAME_LIKE_WITHOUT_FIRST_BATCH_NORM: (frame_like,),
    **{f"paper, batch {batch}, lr {lr}, BatchNorm 1/0, frame-like sprites": (frame_like,)
       for batch, lr in FRAME_LIKE_BUDGET},
}
"""The variants trained on changed sprites, and the changes, applied in this order
(``change(folder, root)`` makes the changed copy of an image folder)."""


def transformed(variant: str, sprites: Path, root: Path) -> Path:
    """The image folder a variant trains on, made from the sprites folder ``sprites``."""
    for change in DATA_CHANGES.get(variant, ()):
        sprites = change(sprites, root)
    return sprites


def without_first_batch_norm(net_D: Any) -> Any:
    """The PyTorch ``net_D`` with its first block's BatchNorm passing its input through. The
    block's BatchNorm stays in the net, unused, so that the initial weights of every other
    layer, the run folder and the checkpoints are the chapter's."""
    net_D[0].batch_norm.forward = lambda X: X
    return net_D


def with_instance_noise(net_D: Any, sigma: float = INSTANCE_NOISE) -> Any:
    """The PyTorch ``net_D`` adding fresh noise from N(0, ``sigma``²) to every image it sees
    in training mode, real or generated (instance noise: Sønderby et al. 2017, Arjovsky and
    Bottou 2017), so that the two distributions overlap and it cannot be certain. Its
    weights, the loss and the optimiser are the chapter's; the noise comes from torch's
    seeded generator."""
    import torch

    def noisy(module: Any, args: tuple) -> tuple | None:
        if not module.training:
            return None
        (X,) = args
        return (X + sigma * torch.randn_like(X),)

    net_D.register_forward_pre_hook(noisy)
    return net_D


DISCRIMINATOR_CHANGES: dict[str, Callable[[Any], Any]] = {
    "paper, batch 64, BatchNorm 1/0, no BatchNorm in D's first block": without_first_batch_norm,
    "paper, batch 64, BatchNorm 1/0, instance noise 0.1": with_instance_noise,
    COMBINED_WITHOUT_FIRST_BATCH_NORM: without_first_batch_norm,
    FRAME_LIKE_WITHOUT_FIRST_BATCH_NORM: without_first_batch_norm,
}
"""The variants whose PyTorch discriminator is changed, and the change (``change(net_D)``
returns the changed net)."""


def train_with_changed_discriminator(variant: str, argv: Sequence[str]) -> int:
    """``python -m dcgan.torch.train ARGV`` with the discriminator changed as ``variant``
    says (:data:`DISCRIMINATOR_CHANGES`)."""
    import dcgan.torch.nets as nets
    from dcgan.torch.train import main as train_main

    change, chapter_net_D = DISCRIMINATOR_CHANGES[variant], nets.net_D
    nets.net_D = lambda *args, **kwargs: change(chapter_net_D(*args, **kwargs))
    try:
        return train_main(list(argv))
    finally:
        nets.net_D = chapter_net_D


def folder_name(variant: str, backend: str = "torch", seed: int = 0) -> str:
    """The run folder's name of a variant: ``paper, BatchNorm 1/0`` -> ``paper-batchnorm-1-0``,
    with ``-<backend>-seed<seed>`` after it for another backend or seed than PyTorch's 0."""
    name = "-".join("".join(c if c.isalnum() else " " for c in variant.lower()).split())
    return name if (backend, seed) == ("torch", 0) else f"{name}-{backend}-seed{seed}"


def title(variant: str, backend: str = "torch", seed: int = 0) -> str:
    """A figure's name for a variant's run: the variant, and the backend and seed when they
    are not PyTorch's 0."""
    return variant if (backend, seed) == ("torch", 0) else f"{variant}, {backend}, seed {seed}"


def train(variant: str, out: Path, epochs: int, backend: str = "torch", seed: int = 0) -> Path:
    """``python -m dcgan.<backend>.train`` for ``variant`` up to ``epochs`` from ``seed``: a
    new run, or the run in ``out`` resumed (and extended) from its checkpoint."""
    if out.joinpath("metrics.jsonl").exists():
        done = len(out.joinpath("metrics.jsonl").read_text().splitlines())
        if done >= epochs:
            return out
        command = ["--resume", str(out)]
    else:
        command = [*data_options(variant), "--seed", str(seed), "--eval-every", "1",
                   "--out", str(out), *VARIANTS[variant]]
    trainer = ([str(Path(__file__).resolve()), TRAIN_CHANGED_DISCRIMINATOR, variant]
               if variant in DISCRIMINATOR_CHANGES else ["-m", f"dcgan.{backend}.train"])
    subprocess.run([sys.executable, *trainer, "--epochs", str(epochs), *command], check=True)
    return out


def data_folder(variant: str) -> Path:
    """The image folder a variant trains on: the sprites, or their changed copy."""
    from dcgan.datasets import default_data_root, image_folder

    return transformed(variant, image_folder("sprites"), default_data_root())


def data_options(variant: str) -> list[str]:
    """The data options of a variant's run."""
    if variant in DATA_CHANGES:
        return ["--data-dir", str(data_folder(variant))]
    return ["--dataset", "sprites"]


def measured_epochs(run: Path) -> list[dict]:
    """Every epoch of the run's ``metrics.jsonl`` that holds a quality measurement, with the
    training step it ends on."""
    config = json.loads((run / "config.json").read_text())
    rows, steps = [], 0
    for line in (run / "metrics.jsonl").read_text().splitlines():
        epoch = json.loads(line)
        steps += -(-epoch["examples"] // config["batch_size"])
        if epoch.get("quality"):
            rows.append({"epoch": epoch["epoch"], "step": steps, "seconds": epoch["seconds"],
                         "loss_D": epoch["loss_D"], "loss_G": epoch["loss_G"],
                         **epoch["quality"]})
    return rows


def last_row(variant: str, run: Path) -> str:
    """A Markdown row: the variant's last measurement beside the noise floor."""
    q = measured_epochs(run)[-1]
    f = q["noise_floor"]
    return (f"| {variant} | {q['step']} | {q['loss_D']:.2f} / {q['loss_G']:.2f} | "
            f"{q['swd_average']:.0f} ({f['swd_average']:.0f}) | {q['fd']:.0f} ({f['fd']:.0f}) | "
            f"{q['precision']:.2f} ({f['precision']:.2f}) | {q['recall']:.2f} "
            f"({f['recall']:.2f}) | {q['classes_covered']}/{q['classes_present']} |")


def colour_matched(variant: str, run: Path, num: int = 500
                   ) -> tuple[np.ndarray, np.ndarray, Any]:
    """The final generator's ``num`` samples as drawn, the same samples with each RGB
    channel's mean and standard deviation over the samples set to the real images', and
    the variant's quality reference: how much of the gap is global brightness and contrast,
    which the chapter's discriminator cannot see (BatchNorm on its first block removes every
    channel's batch mean and scale), nor SWD (it normalises each channel's patches)."""
    from dcgan.backend import load
    from dcgan.datasets import default_data_root
    from dcgan.quality import QualityReference, draw_samples
    from dcgan.weights import load_weights

    reference = QualityReference.of_folder(data_folder(variant), default_data_root(), num)
    samples = draw_samples(load("torch"), load_weights(run / "weights.safetensors")["net_G"], num)
    real = reference.reference[:num]
    axes = (0, 1, 2)
    matched = (samples - samples.mean(axes)) / samples.std(axes) * real.std(axes) + real.mean(axes)
    return samples, np.clip(matched, -1, 1), reference


def colour_matched_lines(variant: str, drawn: np.ndarray, matched: np.ndarray,
                         reference: Any) -> list[str]:
    """The metrics of the samples as drawn and colour-matched, beside the floor, and each
    channel's mean and spread of the samples and of the real images."""
    before, after = reference.measure(drawn), reference.measure(matched)
    floor = reference.noise_floor(len(drawn))
    real = reference.reference

    def spread(images: np.ndarray) -> str:
        axes = (0, 1, 2)
        return f"mean {images.mean(axes).round(2)}, spread {images.std(axes).round(2)}"

    return [f"  {variant}: " + "  ".join(
                f"{k} {before[k]:.2f} -> {after[k]:.2f} (real {floor[k]:.2f})"
                for k in ("swd_average", "fd", "precision", "recall", "classes_covered")),
            f"    each channel: samples {spread(drawn)}; real {spread(real)}"]


def save_panel_column(panels: list[tuple[Any, str]], path: Path,
                      panel_height: float = 2.1) -> None:
    """Images one above the other, each with its title and no axes, saved to ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(panels), 1, figsize=(7, panel_height * len(panels)),
                             squeeze=False)
    for ax, (image, title) in zip(axes[:, 0], panels):
        ax.imshow(image)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(title, fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def draw_colour_matched(samples: dict[str, tuple[np.ndarray, np.ndarray]], path: Path,
                        count: int = 14) -> None:
    """Each variant's first ``count`` samples as drawn and, below, colour-matched."""
    from dcgan.plotting import image_grid

    save_panel_column([(image_grid(images[:count] / 2 + 0.5), f"{how}: {variant}")
                       for variant, pair in samples.items()
                       for images, how in zip(pair, ("as drawn", "colour-matched"))],
                      path, panel_height=2.2)


def discriminator_outputs(variant: str, run: Path, num: int = 448,
                          batch_size: int = 64) -> dict[str, float]:
    """The final discriminator's mean logit on ``num`` of the training sprites, on as many
    held-out sprites (the next indices of the same drawing) and on as many samples of the
    final generator, both nets on batch statistics in batches of ``batch_size``, as in
    training. Training sprites far above held-out ones would mean a memorised data set.
    Also on the training sprites with their ground (the pixels of the top left corner's
    colour) in the samples' mean corner colour: a logit as high as the training sprites'
    would mean that the discriminator cannot see the ground's shade."""
    import torch

    from dcgan.backend import load
    from dcgan.datasets import default_data_root, sprites
    from dcgan.quality.reference import read_images
    from dcgan.randomness import step_noise
    from dcgan.weights import load_weights

    backend, weights = load("torch"), load_weights(run / "weights.safetensors")
    net_D, net_G = backend.net_D(), backend.net_G()
    if variant in DISCRIMINATOR_CHANGES:
        DISCRIMINATOR_CHANGES[variant](net_D)
    backend.from_canonical(net_D, weights["net_D"])
    backend.from_canonical(net_G, weights["net_G"])
    trained = data_folder(variant)
    count = len(list(trained.glob("*/*.png")))
    every = sprites(default_data_root() / "demo-study-held-out", count=count + num)
    every = transformed(variant, every, default_data_root() / "demo-study-held-out")
    by_index = sorted(every.glob("*/*.png"), key=lambda path: int(path.stem))
    images = {"training": read_images(sorted(trained.glob("*/*.png"),
                                             key=lambda path: int(path.stem))[:num]),
              "held out": read_images(by_index[count:])}
    Z = torch.from_numpy(step_noise(0, 0, 0, num, 100, "NCHW"))

    def batches(X):
        return (X[i:i + batch_size] for i in range(0, len(X), batch_size))

    with torch.no_grad():
        images["samples"] = torch.cat([backend.forward(net_G, z, training=True)
                                       for z in batches(Z)]).numpy().transpose(0, 2, 3, 1)
        images["training, ground in the samples' shade"] = in_shade_of(images["training"],
                                                                       images["samples"])
        return {name: float(torch.cat([
            backend.forward(net_D, torch.from_numpy(x.transpose(0, 3, 1, 2).copy()),
                            training=True).flatten() for x in batches(X)]).mean())
            for name, X in images.items()}


def in_shade_of(images: np.ndarray, samples: np.ndarray) -> np.ndarray:
    """NHWC ``images`` with each one's ground, the pixels of its top left corner's colour,
    in the mean colour of the ``samples``' top left corners."""
    ground = (images == images[:, :1, :1, :]).all(axis=-1, keepdims=True)
    return np.where(ground, samples[:, :1, :1, :].mean(axis=0), images).astype(np.float32)


def draw_grids(runs: dict[str, Path], path: Path) -> None:
    """Each variant's last sample grid, one above the other, labelled."""
    from PIL import Image

    save_panel_column([(Image.open(sorted((run / "samples").glob("epoch_*.png"))[-1])
                        .convert("RGB"), f"{variant}, step {measured_epochs(run)[-1]['step']}")
                       for variant, run in runs.items()], path)


def draw_quality(runs: dict[str, Path], path: Path) -> None:
    """SWD and FD by training step, one line per variant, each beside its real images' (the
    dashed line of its colour)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    legend_height = 0.25 * len(runs)  # inches: one line per variant, below both plots
    fig, (swd, fd) = plt.subplots(1, 2, figsize=(9, 3.2 + legend_height))
    for variant, run in runs.items():
        rows = measured_epochs(run)
        steps = [r["step"] for r in rows]
        line, = swd.plot(steps, [r["swd_average"] for r in rows], marker="o", label=variant)
        fd.plot(steps, [r["fd"] for r in rows], marker="o", label=variant)
        floor = rows[0]["noise_floor"]  # each run's own data: the white sprites have theirs
        swd.axhline(floor["swd_average"], color=line.get_color(), linestyle="--", linewidth=0.8)
        fd.axhline(floor["fd"], color=line.get_color(), linestyle="--", linewidth=0.8)
    swd.set(xlabel="step", ylabel="SWD ×10³ (lower is better)")
    fd.set(xlabel="step", ylabel="FD (lower is better)", yscale="log")
    fig.legend(*swd.get_legend_handles_labels(), loc="lower center", fontsize=7, frameon=False)
    fig.tight_layout(rect=(0, (legend_height + 0.1) / fig.get_figheight(), 1, 1))
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    """Train every variant, print the tables, draw the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=10,
                        help="epochs of the 2,000 sprites per variant (10: about 6 to 7 "
                             "minutes on two cores)")
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    from dcgan.backend import BACKENDS

    parser.add_argument("--backend", choices=BACKENDS, default="torch",
                        help="the backend that trains; the measurements read its canonical "
                             "weights into PyTorch's nets (the backends agree within 1e-4)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--runs", type=Path, default=Path("runs/demo-study"))
    parser.add_argument("--images", type=Path, default=HERE / "images")
    parser.add_argument("--figures", default="demo-study",
                        help="the figures' names: FIGURES-grids.png, FIGURES-quality.png, "
                             "FIGURES-colour-matched.png")
    args = parser.parse_args(argv)
    changed = [v for v in args.variants if v in DISCRIMINATOR_CHANGES]
    if args.backend != "torch" and changed:
        parser.error(f"--backend {args.backend}: the variants that change the discriminator "
                     f"are PyTorch's only ({'; '.join(changed)}); leave them out or train "
                     f"with --backend torch")
    runs = {v: train(v, args.runs / folder_name(v, args.backend, args.seed), args.epochs,
                     args.backend, args.seed) for v in args.variants}
    print("| variant | step | loss_D / loss_G | SWD ×10³ (real) | FD (real) | precision (real) "
          "| recall (real) | classes |\n|---|---|---|---|---|---|---|---|")
    for variant, run in runs.items():
        print(last_row(variant, run))
    for variant, run in runs.items():
        print(f"\n{variant}: step, SWD, FD, precision, recall, classes")
        for r in measured_epochs(run):
            print(f"  {r['step']:4d}  {r['swd_average']:6.1f}  {r['fd']:7.1f}  "
                  f"{r['precision']:.2f}  {r['recall']:.2f}  {r['classes_covered']}")
    print("\nas drawn -> colour-matched (each channel's mean and spread set to the real "
          "images'), 500 samples: SWD, FD, precision, recall, classes")
    matched = {variant: colour_matched(variant, run) for variant, run in runs.items()}
    for variant, (drawn, colours, reference) in matched.items():
        print("\n".join(colour_matched_lines(variant, drawn, colours, reference)))
    print("\nthe final discriminator's mean logit (P(real) = sigmoid) on training sprites, "
          "held-out sprites, the final generator's samples, and training sprites with "
          "their ground in the samples' shade")
    for variant, run in runs.items():
        print(f"  {variant}: " + "  ".join(
            f"{name} {logit:.2f}" for name, logit in discriminator_outputs(variant, run).items()))
    args.images.mkdir(parents=True, exist_ok=True)
    titled = {title(v, args.backend, args.seed): run for v, run in runs.items()}
    draw_grids(titled, args.images / f"{args.figures}-grids.png")
    draw_quality(titled, args.images / f"{args.figures}-quality.png")
    draw_colour_matched({variant: (drawn, colours) for variant, (drawn, colours, _) in
                         matched.items()}, args.images / f"{args.figures}-colour-matched.png")
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == [TRAIN_CHANGED_DISCRIMINATOR]:
        sys.exit(train_with_changed_discriminator(sys.argv[2], sys.argv[3:]))
    sys.exit(main())
