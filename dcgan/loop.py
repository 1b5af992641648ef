"""The framework-free half of the chapter's ``train``: epochs, metrics, progress.

Each backend's ``train`` sets up its nets, loss and optimizers and hands a
``step`` function (one ``update_D`` and one ``update_G`` on a batch) to
:func:`train_epochs`, which runs the epochs exactly as the chapter does:
it accumulates the summed losses and the example count per epoch
(``d2l.Accumulator(3)``), times the epoch (``d2l.Timer``) and reports the
per-example losses. The progress bar, the NaN guard and the final line live
here once instead of three times.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from typing import Any, Callable, Iterable

import numpy as np
from tqdm.auto import tqdm

from dcgan.config import SAMPLE_COLS, SAMPLE_ROWS
from dcgan.shapes import Layout, noise_shape

Step = Callable[[Any], tuple[float, float, int]]
"""``step(X) -> (loss_D summed over the batch, loss_G summed over the batch, batch size)``."""


class TrainingDiverged(RuntimeError):
    """A loss became NaN or infinite; the message names the epoch and step."""


@dataclass(frozen=True)
class EpochMetrics:
    """What one epoch produced: per-example losses (the chapter's printed scale) and speed."""

    epoch: int
    loss_D: float
    loss_G: float
    examples: int
    seconds: float

    @property
    def examples_per_sec(self) -> float:
        """Training throughput of the epoch."""
        return self.examples / self.seconds if self.seconds > 0 else float("inf")

    def as_dict(self) -> dict[str, float]:
        """The metrics as one JSON-ready row (as written to ``metrics.jsonl``)."""
        return {**asdict(self), "examples_per_sec": self.examples_per_sec}


def fixed_noise(seed: int, latent_dim: int, layout: Layout,
                count: int = SAMPLE_ROWS * SAMPLE_COLS) -> np.ndarray:
    """The noise behind every epoch's sample grid, drawn with numpy so that all backends
    show the same ``count`` latent vectors for the same seed."""
    rng = np.random.default_rng([seed, 21])
    return rng.standard_normal(noise_shape(count, latent_dim, layout)).astype(np.float32)


def _check_finite(loss_D: float, loss_G: float, epoch: int, step: int) -> None:
    if not (math.isfinite(loss_D) and math.isfinite(loss_G)):
        raise TrainingDiverged(
            f"training diverged at epoch {epoch}, step {step}: loss_D={loss_D}, "
            f"loss_G={loss_G}. Try a smaller --lr; the last completed epoch's outputs are kept.")


def run_epoch(step: Step, data_iter: Iterable, epoch: int, num_epochs: int,
              progress: bool = True) -> EpochMetrics:
    """One pass over ``data_iter``; returns the epoch's per-example losses and timing."""
    total_D = total_G = 0.0
    examples = 0
    start = time.perf_counter()
    batches = tqdm(data_iter, desc=f"epoch {epoch}/{num_epochs}", unit="batch",
                   disable=not progress, leave=True, dynamic_ncols=True)
    for i, (X, _) in enumerate(batches, start=1):
        loss_D, loss_G, n = step(X)
        _check_finite(loss_D, loss_G, epoch, i)
        total_D, total_G, examples = total_D + loss_D, total_G + loss_G, examples + n
        batches.set_postfix(loss_D=f"{total_D / examples:.3f}", loss_G=f"{total_G / examples:.3f}")
    seconds = time.perf_counter() - start
    if examples == 0:
        raise ValueError("the data iterator yielded no batches; is the image folder empty?")
    return EpochMetrics(epoch, total_D / examples, total_G / examples, examples, seconds)


def train_epochs(step: Step, data_iter: Iterable, num_epochs: int, *,
                 on_epoch_end: Callable[[EpochMetrics], None] | None = None,
                 start_epoch: int = 1, progress: bool = True) -> list[EpochMetrics]:
    """Run epochs ``start_epoch..num_epochs``, calling ``on_epoch_end`` after each."""
    history = []
    for epoch in range(start_epoch, num_epochs + 1):
        metrics = run_epoch(step, data_iter, epoch, num_epochs, progress)
        history.append(metrics)
        if on_epoch_end is not None:
            on_epoch_end(metrics)
    return history


def final_line(metrics: EpochMetrics, device: Any) -> str:
    """The chapter's closing line: ``loss_D …, loss_G …, N examples/sec on DEVICE``."""
    return (f"loss_D {metrics.loss_D:.3f}, loss_G {metrics.loss_G:.3f}, "
            f"{metrics.examples_per_sec:.1f} examples/sec on {device}")


def fit(both_updates: Callable[[Any, Any], tuple[float, float]], data_iter: Iterable,
        num_epochs: int, noise: Callable[[int], Any], sample: Callable[[], np.ndarray],
        device: Any, run: Any = None, progress: bool = True) -> list[EpochMetrics]:
    """The loop of the chapter's ``train`` once the nets and optimizers are set up.

    For each batch ``X`` it draws ``Z = noise(batch_size)`` and calls
    ``both_updates(X, Z)`` (a backend's ``make_step``); after each epoch it
    hands the metrics and ``sample()`` (the fixed-noise images) to ``run``
    (a ``RunFolder``, a ``LivePlot``, or None); at the end it prints the
    chapter's final line.
    """

    def step(X: Any) -> tuple[float, float, int]:
        batch_size = X.shape[0]
        return (*both_updates(X, noise(batch_size)), batch_size)

    def end_epoch(metrics: EpochMetrics) -> None:
        if run is not None:
            run.end_epoch(metrics, sample())

    history = train_epochs(step, data_iter, num_epochs, on_epoch_end=end_epoch,
                           progress=progress)
    print(final_line(history[-1], device))
    return history
