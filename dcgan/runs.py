"""The folder a training run writes, the same for every backend.

::

    runs/<backend>-<YYYYmmdd-HHMMSS>/
        config.json          the Config of the run
        metrics.jsonl        one JSON line per epoch: losses, examples, seconds, and the
                             quality metrics of evaluated epochs (--eval-every)
        samples/epoch_001.png  the fixed-noise grid (3 rows of 7) after each epoch
        losses.png           discriminator and generator loss per epoch
        quality.png          the quality metrics per evaluated epoch, beside the noise floor
        progress.gif         the sample grids epoch by epoch, as an animation
        checkpoint.safetensors  nets, optimizers and position after the last epoch (or
                             Ctrl-C), for --resume (dcgan.checkpoints)
        weights.safetensors  the trained nets in the canonical format (dcgan.weights),
                             loadable by every backend
        net_G.*, net_D.*     the trained nets in the framework's own format
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np

from dcgan.checkpoints import CHECKPOINT_FILE, Checkpoint, load_checkpoint, save_checkpoint
from dcgan.config import Config
from dcgan.devices import device_label
from dcgan.files import write_bytes_atomic
from dcgan.loop import EpochMetrics, Position
from dcgan.plotting import (
    display_images,
    save_animation,
    save_image_grid,
    save_loss_plot,
    save_quality_plot,
)
from dcgan.quality.probe import QualityProbe, epoch_quality_line
from dcgan.shapes import Layout

CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.jsonl"
LOSS_PLOT_FILE = "losses.png"
QUALITY_PLOT_FILE = "quality.png"
PROGRESS_GIF_FILE = "progress.gif"
SAMPLES_DIR = "samples"
CANONICAL_WEIGHTS_FILE = "weights.safetensors"


def default_run_path(backend: str, root: str | os.PathLike = "runs") -> Path:
    """``runs/<backend>-<time>``, with a counter added if that folder already exists."""
    stem = Path(root) / f"{backend}-{time.strftime('%Y%m%d-%H%M%S')}"
    path, n = stem, 1
    while path.exists():
        n += 1
        path = stem.with_name(f"{stem.name}-{n}")
    return path


class RunFolder:
    """Writes one run's outputs as the epochs end, and its checkpoints."""

    def __init__(self, path: str | os.PathLike, backend: str, layout: Layout,
                 config: Config | None = None,
                 history: list[EpochMetrics] | None = None) -> None:
        self.path = Path(path)
        self.backend = backend
        self.layout = layout
        self.config = config or Config()
        self.history: list[EpochMetrics] = list(history or [])
        self.quality: QualityProbe | None = None

    @classmethod
    def create(cls, backend: str, layout: Layout, config: Config) -> "RunFolder":
        """A new run folder (``config.out`` or :func:`default_run_path`) holding ``config.json``.

        An ``--out`` folder that already holds a run is refused rather than mixed with it.
        """
        path = Path(config.out) if config.out else default_run_path(backend)
        if (path / METRICS_FILE).exists() or (path / CHECKPOINT_FILE).exists():
            raise FileExistsError(f"{path} already holds a training run; continue it with "
                                  f"--resume {path}, or choose another --out")
        (path / SAMPLES_DIR).mkdir(parents=True, exist_ok=True)
        config.save(path / CONFIG_FILE)
        return cls(path, backend, layout, config)

    @classmethod
    def resume(cls, path: str | os.PathLike, backend: str, layout: Layout,
               num_epochs: int | None = None) -> tuple["RunFolder", Checkpoint]:
        """Reopen the run in ``path`` at its checkpoint, optionally with more epochs
        (:meth:`read_checkpoint`, then :meth:`reopen`)."""
        checkpoint = cls.read_checkpoint(path, backend, num_epochs)
        return cls.reopen(path, backend, layout, checkpoint), checkpoint

    @classmethod
    def reopen(cls, path: str | os.PathLike, backend: str, layout: Layout,
               checkpoint: Checkpoint) -> "RunFolder":
        """The run in ``path``, continued from ``checkpoint`` (read from it by
        :meth:`read_checkpoint`): its configuration is saved again (the number of epochs
        may have grown), and ``metrics.jsonl`` is rewritten from the checkpoint, so an epoch
        that ended after the last checkpoint (a crash in between) is not counted twice.
        """
        path = Path(path)
        checkpoint.config.save(path / CONFIG_FILE)
        run = cls(path, backend, layout, checkpoint.config, checkpoint.history)
        write_bytes_atomic(path / METRICS_FILE, "".join(
            json.dumps(m.as_dict()) + "\n" for m in run.history).encode())
        (path / SAMPLES_DIR).mkdir(parents=True, exist_ok=True)
        return run

    @staticmethod
    def read_checkpoint(path: str | os.PathLike, backend: str,
                        num_epochs: int | None = None) -> Checkpoint:
        """The checkpoint :meth:`resume` continues from, read without writing anything (a
        data-parallel run's other workers), with ``num_epochs`` as :meth:`resume` sets it."""
        checkpoint = load_checkpoint(Path(path) / CHECKPOINT_FILE, backend)
        if num_epochs is not None:
            checkpoint.config = dataclasses.replace(checkpoint.config, num_epochs=num_epochs)
        return checkpoint

    @property
    def checkpoint_path(self) -> Path:
        """The run's checkpoint, rewritten after every epoch."""
        return self.path / CHECKPOINT_FILE

    def save_checkpoint(self, position: Position, state: Callable[[], dict] | None) -> Path | None:
        """Write the checkpoint of ``position`` from ``state()`` (``dcgan.checkpoints.capture``)."""
        if state is None:
            return None
        arrays = state()
        return save_checkpoint(self.checkpoint_path, Checkpoint(
            self.backend, self.config, position, list(self.history),
            arrays["nets"], arrays["trainers"]))

    def record_device(self, device: object, workers: int = 1) -> None:
        """Write the device the run uses into ``config.json``, in the form every backend
        shows (``cpu``, ``gpu:0``) and under ``framework_device`` in its framework's own,
        and the number of data-parallel ``workers`` (each on such a device)."""
        self.config.save(self.path / CONFIG_FILE, {"device_used": device_label(device),
                                                   "framework_device": str(device),
                                                   "workers": workers})

    def sample_path(self, epoch: int) -> Path:
        """The sample grid written after ``epoch``."""
        return self.path / SAMPLES_DIR / f"epoch_{epoch:03d}.png"

    @property
    def loss_plot_path(self) -> Path:
        """The loss curves of the run so far."""
        return self.path / LOSS_PLOT_FILE

    def end_epoch(self, metrics: EpochMetrics, samples: np.ndarray,
                  state: Callable[[], dict] | None = None,
                  draw: Callable[[np.ndarray], np.ndarray] | None = None) -> None:
        """Record an epoch: its quality (if :attr:`quality`, a ``QualityProbe``, says the
        epoch is due; ``draw`` gives images from noise), its metrics line, its sample grid,
        the updated plots and progress.gif, then the checkpoint (from ``state()``) of the
        next epoch's start.

        ``samples`` is generator output in [-1, 1] in the backend's layout.
        """
        if self.quality is not None and draw is not None and self.quality.due(metrics.epoch):
            metrics = dataclasses.replace(metrics,
                                          quality=self.quality.measure(metrics.epoch, draw))
            print(epoch_quality_line(metrics.epoch, metrics.quality), file=sys.stderr)
        self.history.append(metrics)
        with open(self.path / METRICS_FILE, "a", encoding="utf-8") as f:
            f.write(json.dumps(metrics.as_dict()) + "\n")
        save_image_grid(display_images(samples, self.layout), self.sample_path(metrics.epoch))
        save_loss_plot(self.history, self.loss_plot_path, title=f"{self.backend} DCGAN")
        if any(m.quality for m in self.history):
            save_quality_plot(self.history, self.path / QUALITY_PLOT_FILE,
                              title=f"{self.backend} DCGAN")
        save_progress_gif([self.sample_path(m.epoch) for m in self.history],
                          self.path / PROGRESS_GIF_FILE)
        self.save_checkpoint(Position(metrics.epoch + 1), state)


def save_progress_gif(frames: list[Path], path: Path, seconds_per_frame: float = 0.5) -> Path:
    """An animated GIF of the sample grids ``frames``, the last one held longer."""
    from PIL import Image

    images = [np.asarray(Image.open(frame).convert("RGB")) / 255 for frame in frames]
    return save_animation(images, path, seconds_per_frame, hold_last=4)


def read_metrics(run_path: str | os.PathLike) -> list[dict]:
    """The per-epoch rows of a run's ``metrics.jsonl``."""
    lines = (Path(run_path) / METRICS_FILE).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]
