"""The command lines of ``python -m dcgan.<backend>.train`` and ``.sample``, shared by
all backends.

The parsers, the checks on their values and the order of a run (data, nets,
training, outputs) are written here once; each backend's ``main`` is a
one-line call to :func:`main` (or :func:`sample_main`) with its own name.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Callable

import numpy as np

from dcgan import backend as backends
from dcgan.config import Config
from dcgan.datasets import DATASETS, DatasetError, default_data_root, image_folder
from dcgan.loop import TrainingDiverged, TrainingInterrupted
from dcgan.plotting import display_images, save_image_grid
from dcgan.runs import CANONICAL_WEIGHTS_FILE, RunFolder
from dcgan.shapes import noise_shape
from dcgan.weights import (canonical_shapes, check_arrays, check_weights_file, load_weights,
                           save_weights)

DEVICES = ("auto", "cpu", "gpu", "cuda")
"""``cuda`` is accepted as another name for ``gpu`` in every backend."""


def _number(kind: Callable, minimum: float, inclusive: bool = True) -> Callable[[str], object]:
    """An argparse type: ``kind`` at least (or above) ``minimum``, with a message that says so."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a {kind.__name__}, got {text!r}")
        if value < minimum or (not inclusive and value == minimum):
            bound = f"at least {minimum}" if inclusive else f"greater than {minimum}"
            raise argparse.ArgumentTypeError(f"must be {bound}, got {text}")
        return value

    return parse


positive_int = _number(int, 1)
non_negative_int = _number(int, 0)
positive_float = _number(float, 0.0, inclusive=False)


def build_parser(backend: str) -> argparse.ArgumentParser:
    """The options of a training run; defaults are the chapter's, from :class:`Config`."""
    d = Config()
    parser = argparse.ArgumentParser(
        prog=f"python -m dcgan.{backend}.train",
        description=f"Train the d2l.ai DCGAN chapter's networks with the {backend} backend.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    data = parser.add_argument_group("data")
    data.add_argument("--dataset", choices=sorted(DATASETS), default=d.dataset,
                      help="the chapter's Pokemon images (downloaded once) or synthetic "
                           "sprites (offline)")
    data.add_argument("--data-dir", default=None, metavar="PATH",
                      help="train on your own image folder (one sub-folder per class) instead")
    data.add_argument("--data-root", default=None, metavar="PATH",
                      help=f"dataset cache (default: ${'DCGAN_DATA_ROOT'} or "
                           f"{default_data_root()})")
    data.add_argument("--classes", nargs="+", default=None, metavar="CLASS",
                      help="train on these class sub-folders only (e.g. --classes Sneaker "
                           "for fashion-mnist)")
    data.add_argument("--num-images", type=positive_int, default=d.num_images,
                      help="number of images of the sprites dataset")
    data.add_argument("--num-workers", type=non_negative_int, default=d.num_workers,
                      help="input pipeline worker processes or threads")
    model = parser.add_argument_group("model and training")
    model.add_argument("--epochs", type=positive_int, default=None,
                       help=f"number of epochs (default: {d.num_epochs}; with --resume, the "
                            f"run's own, or more to extend it)")
    model.add_argument("--batch-size", type=positive_int, default=d.batch_size)
    model.add_argument("--lr", type=positive_float, default=d.lr, help="Adam learning rate")
    model.add_argument("--latent-dim", type=positive_int, default=d.latent_dim)
    model.add_argument("--alpha", type=float, default=d.alpha,
                       help="slope of the discriminator's leaky ReLU; 0 is a plain ReLU")
    model.add_argument("--init-from", default=None, metavar="FILE",
                       help="start from canonical weights (a weights.safetensors written by "
                            "any backend) instead of the seeded N(0, 0.02) draw")
    model.add_argument("--eager", action="store_true",
                       help="run the training step as the chapter writes it, without the "
                            "backend's compilation and speed settings")
    run = parser.add_argument_group("run")
    run.add_argument("--seed", type=non_negative_int, default=d.seed)
    run.add_argument("--device", choices=DEVICES, default=d.device,
                     help="auto takes a GPU when the framework sees one")
    run.add_argument("--out", default=None, metavar="DIR",
                     help=f"run folder (default: runs/{backend}-<time>)")
    run.add_argument("--resume", default=None, metavar="RUN_DIR",
                     help="continue the run in this folder from its checkpoint, with its own "
                          "configuration (other options but --epochs, --device and "
                          "--num-workers are ignored)")
    return parser


def config_from_args(args: argparse.Namespace) -> Config:
    """The :class:`Config` of parsed options (raises ValueError on inconsistent values)."""
    classes = tuple(c for arg in args.classes for c in arg.split(",") if c) if args.classes \
        else None
    return Config(dataset=args.dataset, data_dir=args.data_dir, data_root=args.data_root,
                  classes=classes,
                  num_images=args.num_images, num_workers=args.num_workers,
                  num_epochs=args.epochs or Config().num_epochs, batch_size=args.batch_size, lr=args.lr,
                  latent_dim=args.latent_dim, alpha=args.alpha, eager=args.eager,
                  init_from=args.init_from,
                  seed=args.seed, device="gpu" if args.device == "cuda" else args.device,
                  out=args.out)


def main(backend_name: str, argv: list[str] | None = None) -> int:
    """Parse ``argv``, train with ``dcgan.<backend_name>`` and write the run folder.

    Returns 0 when training ends, 1 when it diverges and 130 after Ctrl-C
    (with a checkpoint to ``--resume`` from).
    """
    parser = build_parser(backend_name)
    args = parser.parse_args(argv)
    backend = backends.load(backend_name)
    try:
        if args.resume:
            run, checkpoint = RunFolder.resume(args.resume, backend.NAME, backend.LAYOUT,
                                               args.epochs)
            config = dataclasses.replace(
                run.config, device="gpu" if args.device == "cuda" else args.device,
                num_workers=args.num_workers)
            if checkpoint.position.epoch > config.num_epochs:
                raise ValueError(f"--resume {args.resume}: the run has finished its "
                                 f"{config.num_epochs} epochs; pass --epochs with more to "
                                 f"extend it")
        else:
            checkpoint, config = None, config_from_args(args)
            if config.init_from:
                check_weights_file(config.init_from, config.latent_dim, config.n_G, config.n_D)
        folder = image_folder(config.dataset, config.data_dir, config.data_root,
                              config.num_images, config.classes)
        device = backend.resolve_device(config.device)
        if checkpoint is None:
            run = RunFolder.create(backend.NAME, backend.LAYOUT, config)
    except (ValueError, DatasetError, FileExistsError) as err:  # Weights/CheckpointError too
        parser.error(str(err))
    backend.set_seed(config.seed)
    data_iter = backend.load_data(folder, config.batch_size, config.num_workers,
                                  shuffle=True, seed=config.seed)
    net_D = backend.net_D(config.n_D, config.alpha)
    net_G = backend.net_G(config.latent_dim, config.n_G)
    where = (f"resuming {run.path} at epoch {checkpoint.position.epoch}, step "
             f"{checkpoint.position.step}" if checkpoint else f"-> {run.path}")
    print(f"training {backend.NAME} DCGAN on {folder} {where}", file=sys.stderr)
    try:
        backend.train(net_D, net_G, data_iter, config.num_epochs, config.lr,
                      config.latent_dim, device, config=config, run=run, resume=checkpoint)
    except TrainingDiverged as err:
        print(f"{parser.prog}: error: {err} (outputs so far: {run.path})", file=sys.stderr)
        return 1
    except TrainingInterrupted as err:
        print(f"\n{parser.prog}: {err}; checkpoint saved to {run.checkpoint_path}\n"
              f"resume with: {parser.prog} --resume {run.path}", file=sys.stderr)
        return 130
    saved = backend.save_weights(net_D, net_G, run.path)
    saved.append(save_weights(run.path / CANONICAL_WEIGHTS_FILE,
                              {"net_G": backend.to_canonical(net_G),
                               "net_D": backend.to_canonical(net_D)}))
    for path in saved:
        print(f"saved {path}", file=sys.stderr)
    return 0


def build_sample_parser(backend: str) -> argparse.ArgumentParser:
    """The options of ``python -m dcgan.<backend>.sample``."""
    parser = argparse.ArgumentParser(
        prog=f"python -m dcgan.{backend}.sample",
        description=f"Draw a grid of generated images with the {backend} backend from weights "
                    f"any backend wrote.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--weights", required=True, metavar="PATH",
                        help="a run folder, or a canonical weights file (weights.safetensors)")
    parser.add_argument("--num", type=positive_int, default=64, help="number of images")
    parser.add_argument("--seed", type=non_negative_int, default=0,
                        help="the noise; the same seed gives the same images in every backend")
    parser.add_argument("--latent-dim", type=positive_int, default=Config().latent_dim)
    parser.add_argument("--device", choices=DEVICES, default="auto")
    parser.add_argument("--out", default="samples.png", metavar="PNG")
    return parser


def weights_file(path: str) -> Path:
    """The canonical weights of a run folder, or ``path`` itself when it is a file."""
    candidate = Path(path)
    if candidate.is_dir():
        candidate = candidate / CANONICAL_WEIGHTS_FILE
    if not candidate.is_file():
        raise ValueError(f"--weights {path}: no such file or run folder with "
                         f"{CANONICAL_WEIGHTS_FILE}")
    return candidate


def sample_main(backend_name: str, argv: list[str] | None = None) -> int:
    """Parse ``argv``, load net_G from canonical weights, and save a grid of samples."""
    parser = build_sample_parser(backend_name)
    args = parser.parse_args(argv)
    try:
        path = weights_file(args.weights)
        weights = load_weights(path)
        check_arrays(canonical_shapes(args.latent_dim)["net_G"], weights.get("net_G", {}),
                     f"{path} (net_G)")
    except ValueError as err:  # WeightsError is a ValueError
        parser.error(str(err))
    backend = backends.load(backend_name)
    try:
        device = backend.resolve_device("gpu" if args.device == "cuda" else args.device)
    except ValueError as err:
        parser.error(str(err))
    net_G = backend.net_G(args.latent_dim)
    backend.from_canonical(net_G, weights["net_G"])
    noise = np.random.default_rng(args.seed).standard_normal(
        noise_shape(args.num, args.latent_dim, backend.LAYOUT)).astype(np.float32)
    images = backend.generate(net_G, backend.as_tensor(noise, device))
    cols = max(1, round(args.num ** 0.5))
    save_image_grid(display_images(images, backend.LAYOUT), args.out, cols=cols)
    print(f"saved {args.num} samples from {path} to {args.out}", file=sys.stderr)
    return 0
