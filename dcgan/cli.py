"""The command lines of ``python -m dcgan.<backend>.train`` and ``.sample``, shared by
all backends, and the parser every command of the package uses.

The parsers, the checks on their values and the order of a run (data, nets,
training, outputs) are written here once; each backend's ``main`` is a
one-line call to :func:`main` (or :func:`sample_main`) with its own name.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
import typing
import warnings
from pathlib import Path
from typing import Any, Callable

import numpy as np

from dcgan import backend as backends
from dcgan.checkpoints import Checkpoint
from dcgan.config import BN_INITS, PRESETS, Config, preset_values
from dcgan.datasets import (
    DATA_ROOT_ENV,
    DATASETS,
    DatasetError,
    default_data_root,
    image_folder,
    list_images,
)
from dcgan.datasets.memory import INPUTS, resolve_input
from dcgan.devices import DEVICES, on_gpu, requested_device
from dcgan.distributed import DEFAULT_TIMEOUT_S, Workers, WorkersLost, check_batch_size
from dcgan.latent import (
    PATHS,
    interpolation_noise,
    parse_arithmetic,
    write_arithmetic,
    write_interpolation,
    write_nearest,
)
from dcgan.loop import TrainingDiverged, TrainingInterrupted
from dcgan.plotting import display_images, save_image_grid
from dcgan.precision import PRECISIONS
from dcgan.quality.probe import FULL_SAMPLES, QualityProbe
from dcgan.quality.reference import QualityReference, reference_classifier
from dcgan.runs import CANONICAL_WEIGHTS_FILE, CONFIG_FILE, RunFolder
from dcgan.shapes import array_in_layout
from dcgan.startup import VERBOSE_ENV
from dcgan.weights import (
    canonical_shapes,
    check_arrays,
    check_weights_file,
    load_weights,
    save_weights,
)


class Parser(argparse.ArgumentParser):
    """``argparse.ArgumentParser`` with the package's conventions: an error is one line,
    ``PROG: error: ...``, and a hint to ``--help`` (not the whole usage block, which buries
    the line that matters), with exit status 2; ``--help`` shows each default once."""

    def __init__(self, **kwargs: object) -> None:
        kwargs.setdefault("formatter_class", DefaultsOnceFormatter)
        super().__init__(**kwargs)  # type: ignore[arg-type]

    def error(self, message: str) -> typing.NoReturn:
        """Print ``PROG: error: MESSAGE`` and the hint, and exit with status 2."""
        self.exit(2, f"{self.prog}: error: {message}\nsee '{self.prog} --help' for the "
                     f"options\n")


class DefaultsOnceFormatter(argparse.HelpFormatter):
    """Adds ``(default: X)`` to an option's help unless its help already says it, and not
    for options without a default (None, False)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        help_text = action.help or ""
        if ("%(default)" in help_text or "default:" in help_text or action.default is None
                or action.default is False or action.default == argparse.SUPPRESS):
            return help_text
        return f"{help_text} (default: %(default)s)"


def _number(kind: Callable, minimum: float, inclusive: bool = True) -> Callable[[str], object]:
    """An argparse type: a finite ``kind`` at least (or above) ``minimum``, with a message
    that says so (``nan`` and ``inf`` get the same wording as any other bad number)."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a {kind.__name__}, got {text!r}")
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"expected a finite {kind.__name__}, got {text}")
        if value < minimum or (not inclusive and value == minimum):
            bound = f"at least {minimum}" if inclusive else f"greater than {minimum}"
            raise argparse.ArgumentTypeError(f"must be {bound}, got {text}")
        return value

    return parse


positive_int = _number(int, 1)
non_negative_int = _number(int, 0)
positive_float = _number(float, 0.0, inclusive=False)


def _preset_text(name: str) -> str:
    return f"lr {PRESETS[name]['lr']}, batch {PRESETS[name]['batch_size']}"


PRECISION_HELP = ("the arithmetic: fp32, tf32 (a GPU's TensorFloat-32), bf16 or fp16 (mixed "
                  "precision: float32 weights, 16-bit convolutions); auto is fp32 on the CPU "
                  "and tf32 on a GPU (dcgan/precision.py says why)")


def build_parser(backend: str) -> argparse.ArgumentParser:
    """The options of a training run; defaults are the chapter's, from :class:`Config`."""
    d = Config()
    parser = Parser(
        prog=f"python -m dcgan.{backend}.train",
        description=f"Train the d2l.ai DCGAN chapter's networks with the {backend} backend.")
    data = parser.add_argument_group("data")
    data.add_argument("--dataset", choices=sorted(DATASETS), default=d.dataset,
                      help="the chapter's Pokemon images (downloaded once), synthetic sprites "
                           "(offline; frame-like-sprites: drawn as the Pokemon frames look) "
                           "or the exercise's Fashion-MNIST (downloaded once)")
    data.add_argument("--data-dir", default=None, metavar="PATH",
                      help="train on your own image folder (one sub-folder per class) instead")
    data.add_argument("--data-root", default=None, metavar="PATH",
                      help=f"dataset cache (default: ${DATA_ROOT_ENV} or "
                           f"{default_data_root()})")
    data.add_argument("--classes", nargs="+", default=None, metavar="CLASS",
                      help="train on these class sub-folders only (e.g. --classes Sneaker "
                           "for fashion-mnist)")
    data.add_argument("--num-images", metavar="N", type=positive_int, default=d.num_images,
                      help="number of images of the sprites datasets")
    data.add_argument("--num-workers", metavar="N", type=non_negative_int, default=d.num_workers,
                      help="input pipeline worker processes or threads (0: none)")
    data.add_argument("--input", choices=INPUTS, default=d.input,
                      help="pipeline: the framework's file pipeline, the chapter's "
                           "(DataLoader, tf.data); memory: the images decoded once and held "
                           "as uint8 on the device, each batch made there (JAX's only "
                           "path); auto: memory on a GPU, pipeline on the CPU. The batches "
                           "are the same numbers")
    model = parser.add_argument_group("model and training")
    model.add_argument("--epochs", metavar="N", type=positive_int, default=None,
                       help=f"number of epochs (default: {d.num_epochs}; with --resume, the "
                            f"run's own, or more to extend it)")
    model.add_argument("--preset", choices=list(PRESETS), default=d.preset,
                       help="learning rate and batch size: the chapter's ("
                            + _preset_text("chapter") + ") or the DCGAN paper's ("
                            + _preset_text("paper") + ")")
    model.add_argument("--batch-size", metavar="N", type=positive_int, default=None,
                       help="images per training step (default: the preset's)")
    model.add_argument("--lr", type=positive_float, default=None,
                       help=f"Adam learning rate, betas {d.beta1}, {d.beta2} "
                            f"(default: the preset's)")
    model.add_argument("--latent-dim", metavar="N", type=positive_int, default=d.latent_dim,
                       help="length of the generator's noise vector")
    model.add_argument("--bn-init", choices=BN_INITS, default=d.bn_init,
                       help="BatchNorm's starting scale and shift: drawn from N(0, 0.02) "
                            "like every weight (the PyTorch and TensorFlow tabs), or 1 and 0 "
                            "(the MXNet tab); see docs/framework-differences.md")
    model.add_argument("--alpha", type=float, default=d.alpha,
                       help="slope of the discriminator's leaky ReLU; 0 is a plain ReLU")
    model.add_argument("--init-from", default=None, metavar="PATH",
                       help="start from canonical weights (a run folder or a "
                            "weights.safetensors written by any backend) instead of the seeded "
                            "N(0, 0.02) draw")
    model.add_argument("--eval-every", metavar="N", type=non_negative_int,
                       default=d.eval_every,
                       help="measure the samples' quality (dcgan.quality) every N epochs on "
                            "256 samples and after the last epoch on up to 500; "
                            "0 turns it off")
    model.add_argument("--eager", action="store_true",
                       help="run the training step as the chapter writes it, without the "
                            "backend's compilation and speed settings")
    model.add_argument("--compile", action="store_true",
                       help="compile the step further against per-step launch overhead: "
                            "torch.compile in PyTorch (CUDA graphs on a GPU), XLA in "
                            "TensorFlow; MXNet and JAX compile the whole step already. The "
                            "first steps wait for the compiler")
    run = parser.add_argument_group("run")
    run.add_argument("--seed", metavar="N", type=non_negative_int, default=d.seed,
                     help="the initial weights, image order and noise; the same seed gives "
                          "the same losses on the CPU")
    run.add_argument("--device", choices=DEVICES, default=d.device,
                     help="auto takes a GPU when the framework sees one; cuda is another "
                          "name for gpu")
    run.add_argument("--precision", choices=PRECISIONS, default=d.precision,
                     help=PRECISION_HELP)
    run.add_argument("--out", default=None, metavar="DIR",
                     help=f"run folder (default: runs/{backend}-<time>)")
    run.add_argument("--resume", default=None, metavar="RUN_DIR",
                     help="continue the run in this folder from its checkpoint, with its own "
                          "configuration (other options but --epochs, --device, --input "
                          "and --num-workers are ignored)")
    run.add_argument("--verbose", action="store_true",
                     help="let the framework print its start-up messages (also: "
                          f"{VERBOSE_ENV}=1)")
    parallel = parser.add_argument_group("more than one device (data-parallel)")
    parallel.add_argument("--distributed", action="store_true",
                          help="train data-parallel: PyTorch as one of the workers that "
                               "torchrun started (torchrun --nproc-per-node N -m "
                               "dcgan.torch.train --distributed ...), TensorFlow as the "
                               "worker that TF_CONFIG names or over all the devices of "
                               "--device, MXNet as the worker that DMLC_ROLE=worker and "
                               "the other DMLC_* variables name (the dist_sync kvstore) or "
                               "over all the devices of --device, JAX over all the devices "
                               "of --device; "
                               "--batch-size stays the global batch, each worker takes its "
                               "part, the first writes the run folder")
    parallel.add_argument("--worker-timeout", metavar="SECONDS", type=positive_float,
                          default=DEFAULT_TIMEOUT_S,
                          help="stop with an error when the other workers do not answer for "
                               "this long (one died or hangs)")
    return parser


def config_from_args(args: argparse.Namespace) -> Config:
    """The :class:`Config` of parsed options (raises ValueError on inconsistent values)."""
    lr, batch_size = preset_values(args.preset, args.lr, args.batch_size)
    classes = tuple(c for arg in args.classes for c in arg.split(",") if c) if args.classes \
        else None
    return Config(dataset=args.dataset, data_dir=args.data_dir, data_root=args.data_root,
                  classes=classes,
                  num_images=args.num_images, num_workers=args.num_workers,
                  input=args.input,
                  num_epochs=args.epochs or Config().num_epochs, preset=args.preset,
                  batch_size=batch_size, lr=lr,
                  latent_dim=args.latent_dim, alpha=args.alpha, eager=args.eager,
                  compile=args.compile,
                  bn_init=args.bn_init,
                  eval_every=args.eval_every,
                  init_from=str(weights_file(args.init_from, "--init-from"))
                  if args.init_from else None,
                  seed=args.seed, device=requested_device(args.device),
                  precision=args.precision, out=args.out)


def _image_folder_with_warnings(config: Config, prog: str) -> Path:
    """The run's image folder; a warning about its images (``dcgan.datasets``) is printed as
    one ``PROG: warning: ...`` line rather than Python's two-line warning format."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        folder = image_folder(config.dataset, config.data_dir, config.data_root,
                              config.num_images, config.classes)
    for warning in caught:
        print(f"{prog}: warning: {warning.message}", file=sys.stderr)
    return folder


def quality_reference(config: Config, folder: Path) -> QualityReference | None:
    """What ``--eval-every`` compares a run's samples with (None when it is 0): the run's
    real images and their reference classifier, trained once and cached in the data root.
    The same real images for every run on that data, whatever its seed."""
    if not config.eval_every:
        return None
    data_root = Path(config.data_root).expanduser() if config.data_root else default_data_root()
    return QualityReference.of_folder(folder, data_root, FULL_SAMPLES)


def _resumed_config(args: argparse.Namespace, backend: Any) -> tuple[Config, Checkpoint]:
    """The configuration of the run of ``--resume`` with this command's ``--device``,
    ``--num-workers`` and ``--input``, and its checkpoint, read without writing anything; a
    finished run is refused."""
    checkpoint = RunFolder.read_checkpoint(args.resume, backend.NAME, args.epochs)
    config = dataclasses.replace(checkpoint.config, device=requested_device(args.device),
                                 num_workers=args.num_workers, input=args.input)
    if checkpoint.position.epoch > config.num_epochs:
        raise ValueError(f"--resume {args.resume}: the run has finished its "
                         f"{config.num_epochs} epochs; pass --epochs with more to extend it")
    return config, checkpoint


def _new_config(args: argparse.Namespace) -> Config:
    """The configuration of a new run, its ``--init-from`` weights checked first."""
    config = config_from_args(args)
    if config.init_from:
        check_weights_file(config.init_from, config.latent_dim, config.n_G, config.n_D)
    return config


BAD_INPUT = (ValueError, DatasetError, FileExistsError)
"""What bad input raises (WeightsError and CheckpointError are ValueErrors): the command
stops with a one-line error and exit status 2."""

_T = typing.TypeVar("_T")


def _on_every_worker(workers: Workers, step: Callable[[], _T]) -> _T:
    """``step()``, then an agreement among the workers (a collective): when bad input
    stopped it on any worker, every worker stops at once, that worker with its error and
    the others saying so, instead of waiting ``--worker-timeout`` at their next collective
    for a worker that has left. Each worker must reach the agreement, so every worker calls
    this the same number of times."""
    result, error = None, None
    try:
        result = step()
    except BAD_INPUT as err:
        error = err
    if workers.any_of(error is not None):
        if error is not None:
            raise error
        raise ValueError("another worker could not start the run (its error says why)")
    return result


def _configuration(args: argparse.Namespace, backend: Any, prog: str,
                   workers: Workers) -> tuple[Config, Checkpoint | None, Path | None]:
    """The run's configuration and, on resume, its checkpoint; and the image folder, which
    the chief makes (a dataset built on first use) before the others read it (None on
    them)."""
    if args.resume:
        config, checkpoint = _resumed_config(args, backend)
    else:
        config, checkpoint = _new_config(args), None
    folder = _image_folder_with_warnings(config, prog) if workers.chief else None
    return config, checkpoint, folder


def _settled(config: Config, folder: Path | None, backend: Any, prog: str,
             workers: Workers) -> tuple[Config, Path, Any, QualityReference | None]:
    """The configuration with the precision and input the device allows, the image folder
    (read now by the workers other than the chief), the device, and the chief's quality
    reference; a batch the workers cannot share is refused."""
    folder = folder or _image_folder_with_warnings(config, prog)
    if workers.total > 1:
        check_batch_size(config.batch_size, len(list_images(folder)), workers.total)
    device = backend.resolve_device(config.device)
    config = dataclasses.replace(config, precision=backend.use_precision(config.precision, device),
                                 input=resolve_input(config.input, on_gpu(device)))
    if config.compile:
        backend.check_compile(device)
    reference = quality_reference(config, folder) if workers.chief else None
    return config, folder, device, reference


def _run_folder(args: argparse.Namespace, backend: Any, config: Config,
                checkpoint: Checkpoint | None, device: Any, reference: QualityReference | None,
                workers: Workers) -> RunFolder | None:
    """The chief's run folder, new or reopened at ``checkpoint``, with the device it uses
    and its quality probe; None on the other workers."""
    if not workers.chief:
        return None
    if checkpoint is None:
        run = RunFolder.create(backend.NAME, backend.LAYOUT, config)
    else:
        run = RunFolder.reopen(args.resume, backend.NAME, backend.LAYOUT, checkpoint)
    run.record_device(device, workers.total)
    if reference is not None:
        run.quality = QualityProbe(reference, config.eval_every, config.num_epochs,
                                   config.latent_dim, backend.LAYOUT, config.seed)
    return run


def _prepare(args: argparse.Namespace, backend: Any, prog: str,
             workers: Workers) -> tuple[Config, Path, Any, RunFolder | None, Checkpoint | None]:
    """Everything a run needs before its first step, checked before anything is written:
    the configuration, the image folder, the device, and the run folder (new, or the
    resumed one) with its quality probe. Bad input raises one of :data:`BAD_INPUT`, and in
    a data-parallel run stops every worker at once (:func:`_on_every_worker`); only the
    chief has a run folder (None on the others)."""
    config, checkpoint, folder = _on_every_worker(
        workers, lambda: _configuration(args, backend, prog, workers))
    config, folder, device, reference = _on_every_worker(
        workers, lambda: _settled(config, folder, backend, prog, workers))
    run = _on_every_worker(workers, lambda: _run_folder(args, backend, config, checkpoint,
                                                        device, reference, workers))
    return config, folder, device, run, checkpoint


def _save_nets(backend: Any, net_D: Any, net_G: Any, run: RunFolder) -> None:
    """Both nets in the framework's format and in the canonical one, each file named."""
    saved = backend.save_weights(net_D, net_G, run.path)
    saved.append(save_weights(run.path / CANONICAL_WEIGHTS_FILE,
                              {"net_G": backend.to_canonical(net_G),
                               "net_D": backend.to_canonical(net_D)}))
    for path in saved:
        print(f"saved {path}", file=sys.stderr)


def main(backend_name: str, argv: list[str] | None = None) -> int:
    """Parse ``argv``, train with ``dcgan.<backend_name>`` and write the run folder.

    Returns 0 when training ends, 1 when it diverges or a data-parallel run loses a
    worker, and 130 after Ctrl-C (with a checkpoint to ``--resume`` from).
    """
    parser = build_parser(backend_name)
    args = parser.parse_args(argv)
    backend = backends.load(backend_name)
    workers = Workers()
    try:  # the workers leave their group however this ends (MXNet's wait for each other)
        try:
            if args.distributed:
                workers = backend.start_workers(requested_device(args.device),
                                                args.worker_timeout)
            config, folder, device, run, checkpoint = _prepare(args, backend, parser.prog,
                                                               workers)
        except BAD_INPUT as err:
            parser.error(str(err))
        except WorkersLost as err:
            print(f"{parser.prog}: error: {err}", file=sys.stderr)
            return 1
        return _train(args, backend, parser.prog, workers, config, folder, device, run,
                      checkpoint)
    finally:
        workers.close()


def _train(args: argparse.Namespace, backend: Any, prog: str, workers: Workers,
           config: Config, folder: Path, device: Any, run: RunFolder | None,
           checkpoint: Checkpoint | None) -> int:
    """The training of :func:`main` once everything is checked; its exit status."""
    backend.set_seed(config.seed)
    data_iter = backend.load_data(folder, config.batch_size, config.num_workers,
                                  shuffle=True, seed=config.seed,
                                  in_memory=config.input == "memory", device=device,
                                  workers=workers)
    net_D = backend.net_D(config.n_D, config.alpha)
    net_G = backend.net_G(config.latent_dim, config.n_G)
    if run is not None:
        where = (f"resuming {run.path} at epoch {checkpoint.position.epoch}, step "
                 f"{checkpoint.position.step}" if checkpoint else f"-> {run.path}")
        on = f" with {workers.total} workers" if workers.total > 1 else ""
        print(f"training {backend.NAME} DCGAN on {folder}{on} {where}", file=sys.stderr)
        if config.init_from and checkpoint is None:
            print(f"starting from the weights in {config.init_from}", file=sys.stderr)
    try:
        backend.train(net_D, net_G, data_iter, config.num_epochs, config.lr,
                      config.latent_dim, device, config=config, run=run, resume=checkpoint,
                      workers=workers)
    except TrainingDiverged as err:
        if run is not None:
            print(f"{prog}: error: {err} (outputs so far: {run.path})", file=sys.stderr)
        return 1
    except WorkersLost as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        return 1
    except TrainingInterrupted as err:
        if run is not None:
            again = (f" --distributed (as it was started, with {workers.total} workers)"
                     if workers.total > 1 else "")
            print(f"\n{prog}: {err}; checkpoint saved to {run.checkpoint_path}\n"
                  f"resume with: {prog} --resume {run.path}{again}", file=sys.stderr)
        return 130
    if run is not None:
        _save_nets(backend, net_D, net_G, run)
    return 0


def build_sample_parser(backend: str) -> argparse.ArgumentParser:
    """The options of ``python -m dcgan.<backend>.sample``."""
    parser = Parser(
        prog=f"python -m dcgan.{backend}.sample",
        description=f"Draw a grid of generated images with the {backend} backend from weights "
                    f"any backend wrote; or walks through the latent space, each sample "
                    f"beside its nearest training image, or vector arithmetic (the DCGAN "
                    f"paper's pictures).")
    parser.add_argument("--weights", required=True, metavar="PATH",
                        help="a run folder, or a canonical weights file (weights.safetensors)")
    parser.add_argument("--num", metavar="N", type=positive_int, default=64,
                        help="number of images (with --nearest: of samples)")
    parser.add_argument("--seed", metavar="N", type=non_negative_int, default=0,
                        help="the noise; the same seed gives the same images in every backend")
    parser.add_argument("--latent-dim", metavar="N", type=positive_int, default=Config().latent_dim,
                        help="length of the generator's noise vector, as in training")
    parser.add_argument("--device", choices=DEVICES, default="auto",
                        help="auto takes a GPU when the framework sees one; cuda is another "
                             "name for gpu")
    parser.add_argument("--precision", choices=PRECISIONS, default="auto", help=PRECISION_HELP)
    parser.add_argument("--out", default="samples.png", metavar="PNG",
                        help="the picture's file (--interpolate also writes a .gif beside it)")
    parser.add_argument("--verbose", action="store_true",
                        help=f"let the framework print its start-up messages (also: "
                             f"{VERBOSE_ENV}=1)")
    paper = parser.add_argument_group("the DCGAN paper's pictures (one at a time)")
    what = paper.add_mutually_exclusive_group()
    what.add_argument("--interpolate", metavar="K", type=positive_int, default=None,
                      help="K walks, one per row, each from the noise of seed --seed + 2k to "
                           "that of seed --seed + 2k + 1")
    what.add_argument("--nearest", action="store_true",
                      help="each sample beside its nearest training image: is it copying?")
    what.add_argument("--arithmetic", metavar="EXPR", default=None,
                      help="vector arithmetic on class averages, e.g. 'bug - blob + ghost' "
                           "(classes of the training data, by the reference classifier)")
    paper.add_argument("--steps", metavar="N", type=positive_int, default=8,
                       help="images per walk, endpoints included")
    paper.add_argument("--path", choices=PATHS, default="slerp",
                       help="walk along the sphere (slerp) or a straight line (linear)")
    paper.add_argument("--nearest-in", choices=("pixels", "features"), default="pixels",
                       help="distance in pixels, or in the reference classifier's features")
    add_run_data_options(paper, "the training images of --nearest and --arithmetic")
    return parser


def add_run_data_options(group: Any, what: str) -> None:
    """``--dataset``, ``--data-dir``, ``--data-root`` and ``--num-images`` for a command
    that reads a run's images (``what``), each defaulting to the run's own."""
    group.add_argument("--dataset", choices=sorted(DATASETS), default=None,
                       help=f"{what}: this dataset (default: the run's)")
    group.add_argument("--data-dir", default=None, metavar="PATH",
                       help=f"{what}: this image folder (default: the run's)")
    group.add_argument("--data-root", default=None, metavar="PATH",
                       help="dataset and reference-classifier cache (default: the run's, "
                            "else as for training)")
    group.add_argument("--num-images", metavar="N", type=positive_int, default=None,
                       help="size of the sprites datasets (default: the run's)")


def weights_file(path: str | Path, option: str = "--weights") -> Path:
    """The canonical weights of a run folder, or ``path`` itself when it is a file; the
    error names ``option``."""
    candidate = Path(path)
    if candidate.is_dir():
        candidate = candidate / CANONICAL_WEIGHTS_FILE
    if not candidate.is_file():
        raise ValueError(f"{option} {path}: no such file or run folder with "
                         f"{CANONICAL_WEIGHTS_FILE}")
    return candidate


def run_config(run: str | Path | None) -> Config:
    """The configuration of a run folder (its ``config.json``), or the sprites' defaults
    when there is no run folder."""
    path = Path(run) / CONFIG_FILE if run is not None else None
    if path is None or not path.is_file():
        return Config(dataset="sprites")
    return Config.from_json(path.read_text(encoding="utf-8"))


def run_data(args: argparse.Namespace, config: Config) -> tuple[Path, Path]:
    """The image folder and data root of :func:`add_run_data_options`: the options', else
    those of the run's ``config``."""
    data_root = Path(args.data_root or config.data_root or default_data_root()).expanduser()
    chosen = args.data_dir or args.dataset
    folder = image_folder(args.dataset or config.dataset,
                          args.data_dir if chosen else config.data_dir, data_root,
                          args.num_images or config.num_images,
                          None if chosen else config.classes)
    return folder, data_root


def sample_main(backend_name: str, argv: list[str] | None = None) -> int:
    """Parse ``argv``, load net_G from canonical weights, and save a grid of samples (or
    the walks, nearest images or arithmetic that the options ask for)."""
    parser = build_sample_parser(backend_name)
    args = parser.parse_args(argv)
    try:
        path = weights_file(args.weights)
        weights = load_weights(path)
        check_arrays(canonical_shapes(args.latent_dim)["net_G"], weights.get("net_G", {}),
                     f"{path} (net_G)")
        if args.interpolate and args.steps < 2:
            raise ValueError(f"--steps {args.steps}: a walk needs at least 2 images")
        folder = data_root = None
        if args.nearest or args.arithmetic:
            folder, data_root = run_data(args, run_config(args.weights))
        classifier = None
        if args.arithmetic or args.nearest_in == "features" and args.nearest:
            classifier = reference_classifier(folder, data_root)
            if classifier is None:
                raise ValueError(f"{folder} has one class; --arithmetic and --nearest-in "
                                 f"features need a reference classifier of several")
            if args.arithmetic:
                parse_arithmetic(args.arithmetic, classifier.classes)
        backend = backends.load(backend_name)
        device = backend.resolve_device(requested_device(args.device))
        backend.use_precision(args.precision, device)
    except (ValueError, DatasetError) as err:  # WeightsError is a ValueError
        parser.error(str(err))
    net_G = backend.net_G(args.latent_dim)
    backend.from_canonical(net_G, weights["net_G"])
    net_G = backend.to_device(net_G, device)

    def images_of(noise: np.ndarray) -> np.ndarray:
        Z = array_in_layout(noise.reshape(len(noise), -1, 1, 1), backend.LAYOUT)
        return display_images(backend.generate(net_G, backend.as_tensor(Z, device)),
                              backend.LAYOUT)

    if args.interpolate:
        noise = interpolation_noise(args.seed, args.interpolate, args.steps, args.latent_dim,
                                    args.path)
        png, gif = write_interpolation(images_of, noise, args.interpolate, args.steps,
                                       Path(args.out))
        print(f"saved {args.interpolate} walks of {args.steps} steps ({args.path}) from "
              f"{path} to {png} and {gif}", file=sys.stderr)
        return 0
    noise = np.random.default_rng(args.seed).standard_normal(
        (args.num, args.latent_dim)).astype(np.float32)
    if args.nearest:
        features = classifier.features if args.nearest_in == "features" else None
        write_nearest(images_of, noise, list_images(folder), Path(args.out), features)
        print(f"saved {args.num} samples from {path}, each beside its nearest image of "
              f"{folder} in {args.nearest_in}, to {args.out}", file=sys.stderr)
    elif args.arithmetic:
        try:
            write_arithmetic(images_of, args.arithmetic, classifier, args.seed,
                             args.latent_dim, Path(args.out))
        except ValueError as err:  # a class the generator does not draw
            parser.error(str(err))
        print(f"saved {args.arithmetic!r} from {path} to {args.out}", file=sys.stderr)
    else:
        cols = max(1, round(args.num ** 0.5))
        save_image_grid(images_of(noise), args.out, cols=cols)
        print(f"saved {args.num} samples from {path} to {args.out}", file=sys.stderr)
    return 0
