"""The chapter's hyperparameters and the numerical constants, written once.

Every backend reads its defaults from here, so the implementations
cannot drift apart. Where the book's three tabs disagree (learning rate and
epochs differ in the TensorFlow tab), we follow the PyTorch and MXNet tabs;
``docs/framework-differences.md`` lists every such place.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dcgan.datasets.memory import INPUTS
from dcgan.precision import PRECISIONS

# BatchNorm and Adam constants shared by all backends. PyTorch and
# Gluon use these by default; Keras does not (its BatchNormalization has
# epsilon 1e-3 and momentum 0.99, its Adam epsilon 1e-7), so the TensorFlow
# backend passes them explicitly.
BN_EPSILON = 1e-5
# Weight of the *old* running statistic in the moving average:
# running = BN_MOMENTUM * running + (1 - BN_MOMENTUM) * batch_statistic.
# This is Keras's and Gluon's convention; PyTorch's `momentum` argument is
# the weight of the *new* value, i.e. 1 - BN_MOMENTUM = 0.1 (its default).
BN_MOMENTUM = 0.9
ADAM_EPSILON = 1e-8

PRESETS: dict[str, dict[str, float | int]] = {
    "chapter": {"lr": 0.005, "batch_size": 256},
    "paper": {"lr": 0.0002, "batch_size": 128},
}
"""Named learning rate and batch size: the chapter's (d2l.ai, PyTorch and MXNet tabs) and
the DCGAN paper's (Radford et al. 2015, section 4). Everything else is the chapter's in both."""



def preset_values(preset: str, lr: float | None = None,
                  batch_size: int | None = None) -> tuple[float, int]:
    """``(lr, batch_size)`` of the :data:`PRESETS` entry ``preset``, each overridden by a
    value given explicitly (not None)."""
    values = PRESETS[preset]
    return (float(values["lr"]) if lr is None else lr,
            int(values["batch_size"]) if batch_size is None else batch_size)


BN_INITS = ("normal", "one")
"""How BatchNorm's scale and shift start: ``normal``, drawn from N(0, std) like every other
parameter (the chapter's PyTorch and TensorFlow tabs), or ``one``, scale 1 and shift 0 (the
MXNet tab, whose Gluon initialiser leaves them alone; also the DCGAN paper's code, up to
its N(1, 0.02) noise). docs/framework-differences.md section 2 measures the difference."""

# The chapter shows 21 generated images as 3 rows of 7.
SAMPLE_ROWS = 3
SAMPLE_COLS = 7


@dataclass(frozen=True)
class Config:
    """One training run: the chapter's hyperparameters plus where and how to run.

    The defaults are the chapter's (PyTorch and MXNet tabs). ``alpha`` is the
    discriminator's leaky ReLU slope; 0 turns it into a plain ReLU (the
    chapter's first exercise). ``eager`` runs the training step as the chapter
    writes it, without the backend's compilation or speed settings; ``compile``
    compiles it further against per-step launch overhead (PyTorch's
    ``torch.compile``, with CUDA graphs on a GPU; TensorFlow's XLA; MXNet and
    JAX compile the whole step already), so the two exclude each other.
    ``bn_init`` is how BatchNorm's scale and shift start (:data:`BN_INITS`: drawn
    like the rest, or 1 and 0). ``preset`` names the :data:`PRESETS` entry that
    ``lr`` and ``batch_size`` came from (an explicit value on the command line
    overrides it). ``init_from`` names a canonical weights file (``dcgan.weights``)
    to start from instead of the seeded N(0, init_std) draw. ``eval_every``
    measures the samples' quality every that many epochs and after the last
    (0: never).
    """

    # The chapter's hyperparameters.
    latent_dim: int = 100
    n_G: int = 64
    n_D: int = 64
    image_size: int = 64
    batch_size: int = int(PRESETS["chapter"]["batch_size"])
    lr: float = float(PRESETS["chapter"]["lr"])
    beta1: float = 0.5
    beta2: float = 0.999
    num_epochs: int = 20
    init_std: float = 0.02
    bn_init: str = "normal"
    alpha: float = 0.2
    preset: str = "chapter"
    # Where the data comes from.
    dataset: str = "pokemon"
    data_dir: str | None = None
    data_root: str | None = None
    classes: tuple[str, ...] | None = None
    num_images: int = 2000
    # How the run is carried out.
    seed: int = 0
    device: str = "auto"
    out: str | None = None
    num_workers: int = 2
    input: str = "auto"
    eager: bool = False
    compile: bool = False
    precision: str = "auto"
    init_from: str | None = None
    eval_every: int = 1

    def __post_init__(self) -> None:
        for name in ("latent_dim", "n_G", "n_D", "image_size", "batch_size",
                     "num_epochs", "num_images"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.image_size != 64:
            raise ValueError(
                f"image_size must be 64 (the chapter's networks are built for "
                f"64x64 images), got {self.image_size}")
        if self.bn_init not in BN_INITS:
            raise ValueError(f"bn_init must be one of {', '.join(BN_INITS)}, got "
                             f"{self.bn_init!r}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got "
                             f"{self.precision!r}")
        if self.input not in INPUTS:
            raise ValueError(f"input must be one of {', '.join(INPUTS)}, got {self.input!r}")
        if self.preset not in PRESETS:
            raise ValueError(f"preset must be one of {', '.join(PRESETS)}, got {self.preset!r}")
        if not self.lr > 0:
            raise ValueError(f"lr must be positive, got {self.lr!r}")
        if not 0 <= self.alpha < 1:
            raise ValueError(f"alpha (the leaky ReLU slope) must be in [0, 1), got {self.alpha!r}")
        if not isinstance(self.eval_every, int) or self.eval_every < 0:
            raise ValueError(f"eval_every must be 0 (off) or a number of epochs, got "
                             f"{self.eval_every!r}")
        if self.eager and self.compile:
            raise ValueError("--eager and --compile exclude each other: --eager runs the "
                             "chapter's step uncompiled; drop one")
        if self.num_workers < 0:
            raise ValueError(f"num_workers must be 0 or more, got {self.num_workers!r}")

    def to_json(self, recorded: dict[str, Any] | None = None) -> str:
        """The configuration as pretty-printed JSON, as saved in a run folder, with the
        facts of the run in ``recorded`` (keys of :data:`RECORDED_KEYS`) beside it."""
        unknown = sorted(set(recorded or {}) - set(RECORDED_KEYS))
        if unknown:
            raise ValueError(f"not a recorded fact of a run: {unknown}")
        return json.dumps({**dataclasses.asdict(self), **(recorded or {})}, indent=2,
                          sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "Config":
        """Read a configuration written by :meth:`to_json`; unknown keys are an error, and
        the recorded facts (:data:`RECORDED_KEYS`) are not configuration."""
        data: dict[str, Any] = {k: v for k, v in json.loads(text).items()
                                if k not in RECORDED_KEYS}
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown configuration keys {unknown}; known keys are "
                             f"{sorted(known)}")
        if data.get("classes") is not None:
            data["classes"] = tuple(data["classes"])
        return cls(**data)

    def save(self, path: Path, recorded: dict[str, Any] | None = None) -> None:
        """Write the configuration (and ``recorded``, see :meth:`to_json`) as JSON to
        ``path``, whole or not at all."""
        from dcgan.files import write_bytes_atomic

        write_bytes_atomic(path, (self.to_json(recorded) + "\n").encode("utf-8"))


RECORDED_KEYS = ("device_used", "framework_device", "workers")
"""What a run folder's ``config.json`` records beside the configuration: the device the
run used, named as every backend names it (``cpu``, ``gpu:0``), and as its framework
names it (``cpu(0)``, ``/GPU:0``, ``cuda:0``), and the number of data-parallel workers."""
