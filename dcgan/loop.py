"""The epoch loop of the chapter's ``train``, written once for every backend.

:func:`fit` runs the epochs exactly as the chapter does: it accumulates the
summed losses and the example count per epoch (``d2l.Accumulator(3)``), times
the epoch (``d2l.Timer``) and reports the per-example losses. The progress
bar, the NaN guard, Ctrl-C handling, the per-step noise and the final line
live here once; ``dcgan.training`` sets up what it runs.

Two functions of a batch appear here; their names keep them apart: a
backend's ``both_updates(X, Z)`` (what its ``make_step`` returns: one
``update_D`` and one ``update_G``) and the loop's ``train_batch(X, epoch, i)``
(:data:`TrainBatch`), which draws the step's noise and calls ``both_updates``.

A compiled ``both_updates`` hands its losses back as 0-d arrays still on the
device; the loop reads them (``float``) one step late, after the next step
has been queued, so that on a GPU the host never waits for the device between
two steps. On the CPU a step has finished when it returns: nothing changes.
"""

from __future__ import annotations

import contextlib
import math
import signal
import threading
import time
from dataclasses import asdict, dataclass
from typing import Any, Callable, Iterable, Iterator

import numpy as np
from tqdm.auto import tqdm

from dcgan.config import SAMPLE_COLS, SAMPLE_ROWS
from dcgan.devices import device_label
from dcgan.distributed import Workers
from dcgan.randomness import step_noise
from dcgan.shapes import Layout, noise_shape

TrainBatch = Callable[[Any, int, int], tuple[Any, Any, int]]
"""``train_batch(X, epoch, i) -> (loss_D summed over the batch, loss_G summed over the batch,
batch size)`` for the ``i``-th batch of ``epoch`` (both 1-based, which key the noise); each
loss a float or a 0-d array that ``float()`` reads."""


class TrainingDiverged(RuntimeError):
    """A loss became NaN or infinite; the message names the epoch and step."""


@dataclass(frozen=True)
class Position:
    """Where a run stands between two steps: ``step`` batches of ``epoch`` are done, with
    these summed losses, examples and seconds so far in that epoch."""

    epoch: int = 1
    step: int = 0
    loss_D: float = 0.0
    loss_G: float = 0.0
    examples: int = 0
    seconds: float = 0.0


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped training between two steps; ``position`` says where."""

    def __init__(self, position: Position) -> None:
        super().__init__(f"interrupted in epoch {position.epoch} after step {position.step}")
        self.position = position


class _StopRequest:
    """Set by the first Ctrl-C: training stops after the current step. A second Ctrl-C
    interrupts at once, as usual. ``agree`` makes the workers of a data-parallel run
    stop after the same step (``dcgan.distributed.Workers.any_of``)."""

    def __init__(self, agree: Callable[[bool], bool] = lambda flag: flag) -> None:
        self.requested = False
        self.agree = agree

    def __call__(self, signum: int, frame: Any) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def now(self) -> bool:
        """Whether to stop after this step: requested here, or on any other worker."""
        return self.agree(self.requested)


@contextlib.contextmanager
def stop_on_interrupt(workers: Workers | None = None) -> Iterator[_StopRequest]:
    """Catch SIGINT while training (in the main thread) so the current step can finish;
    every worker of a data-parallel run stops after the same step."""
    request = _StopRequest((workers or Workers()).any_of)
    if threading.current_thread() is not threading.main_thread():
        yield request
        return
    previous = signal.signal(signal.SIGINT, request)
    try:
        yield request
    finally:
        signal.signal(signal.SIGINT, previous)


@dataclass(frozen=True)
class EpochMetrics:
    """What one epoch produced: per-example losses (the chapter's printed scale) and speed,
    and, in an evaluated epoch (``--eval-every``), the samples' quality metrics
    (``dcgan.quality``)."""

    epoch: int
    loss_D: float
    loss_G: float
    examples: int
    seconds: float
    quality: dict | None = None

    @property
    def examples_per_sec(self) -> float:
        """Training throughput of the epoch."""
        return self.examples / self.seconds if self.seconds > 0 else float("inf")

    def as_dict(self) -> dict[str, Any]:
        """The metrics as one JSON-ready row (as written to ``metrics.jsonl``); ``quality``
        only in an evaluated epoch."""
        row = {**asdict(self), "examples_per_sec": self.examples_per_sec}
        if row["quality"] is None:
            del row["quality"]
        return row


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
            f"loss_G={loss_G}. Try a smaller --lr; the last checkpoint and the outputs of "
            f"the completed epochs are kept.")


def run_epoch(train_batch: TrainBatch, data_iter: Iterable, epoch: int, num_epochs: int,
              progress: bool = True, start: Position | None = None,
              stop: _StopRequest | None = None) -> EpochMetrics:
    """One pass over ``data_iter``; returns the epoch's per-example losses and timing.

    ``start`` continues an epoch that was interrupted (``data_iter`` then
    gives its remaining batches); when ``stop`` is requested the epoch ends
    after the current step with :class:`TrainingInterrupted`.
    """
    start = start if start is not None and start.epoch == epoch else Position(epoch)
    total_D, total_G, examples, i = start.loss_D, start.loss_G, start.examples, start.step
    began = time.perf_counter() - start.seconds
    total = len(data_iter) + i if hasattr(data_iter, "__len__") else None
    batches = tqdm(data_iter, desc=f"epoch {epoch}/{num_epochs}", unit="batch", total=total,
                   initial=i, disable=not progress, leave=True, dynamic_ncols=True)
    unread: tuple[Any, Any, int, int] | None = None  # the last step's losses, not yet read

    def read(losses: tuple[Any, Any, int, int]) -> None:
        nonlocal total_D, total_G, examples
        loss_D, loss_G, n, step = float(losses[0]), float(losses[1]), losses[2], losses[3]
        _check_finite(loss_D, loss_G, epoch, step)
        total_D, total_G, examples = total_D + loss_D, total_G + loss_G, examples + n
        batches.set_postfix(loss_D=f"{total_D / examples:.3f}", loss_G=f"{total_G / examples:.3f}")

    for X, _ in batches:
        i += 1
        queued = (*train_batch(X, epoch, i), i)
        if unread is not None:
            read(unread)
        unread = queued
        if stop is not None and stop.now():
            read(unread)
            batches.n = i  # tqdm counts a batch when the next one is asked for
            batches.close()
            raise TrainingInterrupted(Position(epoch, i, total_D, total_G, examples,
                                               time.perf_counter() - began))
    if unread is not None:
        read(unread)
    seconds = time.perf_counter() - began
    if examples == 0:
        raise ValueError("the data iterator yielded no batches; is the image folder empty?")
    return EpochMetrics(epoch, total_D / examples, total_G / examples, examples, seconds)


def train_epochs(train_batch: TrainBatch, data_iter: Iterable, num_epochs: int, *,
                 on_epoch_end: Callable[[EpochMetrics], None] | None = None,
                 start: Position | None = None, progress: bool = True,
                 stop: _StopRequest | None = None) -> list[EpochMetrics]:
    """Run the epochs from ``start`` (default: the beginning) to ``num_epochs``, calling
    ``on_epoch_end`` after each.

    A ``data_iter`` with ``set_epoch`` (``dcgan.randomness.EpochBatches``) is
    told each epoch, and where a resumed epoch continues.
    """
    start = start or Position()
    history = []
    for epoch in range(start.epoch, num_epochs + 1):
        if hasattr(data_iter, "set_epoch"):
            data_iter.set_epoch(epoch, start.step if epoch == start.epoch else 0)
        metrics = run_epoch(train_batch, data_iter, epoch, num_epochs, progress, start, stop)
        history.append(metrics)
        if on_epoch_end is not None:
            on_epoch_end(metrics)
    return history


def final_line(metrics: EpochMetrics, device: Any) -> str:
    """The chapter's closing line: ``loss_D …, loss_G …, N examples/sec on DEVICE``, with the
    device named as in every backend (``cpu``, ``gpu:0``)."""
    return (f"loss_D {metrics.loss_D:.3f}, loss_G {metrics.loss_G:.3f}, "
            f"{metrics.examples_per_sec:.1f} examples/sec on {device_label(device)}")


def fit(both_updates: Callable[[Any, Any], tuple[float, float]], data_iter: Iterable,
        num_epochs: int, *, seed: int, latent_dim: int, layout: Layout,
        to_tensor: Callable[[np.ndarray], Any], generate: Callable[[Any], np.ndarray],
        device: Any, run: Any = None, state: Callable[[], dict] | None = None,
        start: Position | None = None, progress: bool = True,
        workers: Workers | None = None) -> list[EpochMetrics]:
    """The loop of the chapter's ``train`` once the nets and optimizers are set up.

    For the ``step``-th batch ``X`` of ``epoch`` it draws that step's noise
    (``dcgan.randomness.step_noise``, handed over with ``to_tensor``) and
    calls ``both_updates(X, Z)`` (a backend's ``make_step``). After each
    epoch it hands the metrics, the fixed-noise images (``generate``, the
    backend's images from a noise tensor, on :func:`fixed_noise`), ``state``
    (a function giving the nets' and optimizers' arrays, see
    ``dcgan.checkpoints.capture``) and ``draw`` (images from any numpy
    noise, for the quality metrics) to ``run`` (a ``RunFolder``, a
    ``LivePlot``, or None). ``start`` resumes a run from its checkpoint's
    position. Ctrl-C stops after the current step: ``run`` saves a checkpoint
    and :class:`TrainingInterrupted` propagates. At the end it prints the
    chapter's final line.

    ``workers`` (``dcgan.distributed``): this process is one worker of a
    data-parallel run, ``data_iter`` gives its part of each global batch
    (``global_batch_size``), it takes its rows of the global batch's noise,
    ``both_updates`` returns the global batch's losses, and only the chief
    shows progress and prints (``run`` is None on the others).
    """
    workers = workers or Workers()
    Z_fixed = to_tensor(fixed_noise(seed, latent_dim, layout))

    def draw(noise: np.ndarray) -> np.ndarray:
        return generate(to_tensor(noise))

    def train_batch(X: Any, epoch: int, i: int) -> tuple[float, float, int]:
        batch_size = data_iter.global_batch_size(i) if workers.size > 1 else X.shape[0]
        Z = step_noise(seed, epoch, i, batch_size, latent_dim, layout)[workers.part(batch_size)]
        return (*both_updates(X, to_tensor(Z)), batch_size)

    def end_epoch(metrics: EpochMetrics) -> None:
        if run is not None:
            run.end_epoch(metrics, generate(Z_fixed), state, draw=draw)

    with stop_on_interrupt(workers) as stop:
        try:
            history = train_epochs(train_batch, data_iter, num_epochs, on_epoch_end=end_epoch,
                                   start=start, progress=progress and workers.chief,
                                   stop=stop)
        except TrainingInterrupted as interrupted:
            if run is not None and hasattr(run, "save_checkpoint"):
                run.save_checkpoint(interrupted.position, state)
            raise
    if history and workers.chief:
        print(final_line(history[-1], device))
    return history
