"""Data-parallel training, the framework-free half: who is who, and who gets which images.

``--distributed`` runs the same ``train`` on W devices: in worker processes
(``torchrun`` starts PyTorch's, one per device; TensorFlow's
MultiWorkerMirroredStrategy joins the processes that ``TF_CONFIG`` describes), or
in one process over its devices (TensorFlow's MirroredStrategy; JAX: one
compiled step over a mesh of devices; MXNet: each batch split over contexts, the
gradients summed in a kvstore; on the CPU, the devices that
:data:`CPU_DEVICES_ENV` asks for), or both (MXNet's worker processes, joined by
the ``dist_sync`` kvstore, each over its contexts). The semantics are written here once, for
every backend:

* ``--batch-size`` stays the global batch: each step's batch (the seeded
  order of ``dcgan.randomness``) and its noise are split into consecutive
  parts, process ``r`` takes part ``r`` (:meth:`Workers.part`), and a process
  with several devices splits its part again over them, so the W devices
  together see exactly the images and noise of a one-device run;
* the chapter's loss is a sum over the batch, so the workers' gradients and
  losses are summed (not averaged), and BatchNorm's statistics are those of
  the global batch: one step of W workers is one step of one worker;
* only the chief (rank 0) writes the run folder, samples, metrics and
  checkpoints, and shows the progress bar;
* a batch that W devices cannot share evenly (the batch size, or an epoch's
  last, shorter batch) is refused; a collective that fails
  (a worker died, or did not answer within ``--worker-timeout``) stops every
  worker with :class:`WorkersLost` instead of hanging.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

DEFAULT_TIMEOUT_S = 300.0
"""How long a worker waits for the others in a collective (joining, each step's
all-reduce) before it gives up: long enough for the chief's end-of-epoch work (samples,
quality metrics, checkpoint), short enough that a lost worker is noticed."""


CPU_DEVICES_ENV = "DCGAN_CPU_DEVICES"
"""How many devices a data-parallel run on the CPU splits it into, for the backends that
train over one process's devices (JAX, MXNet, TensorFlow); 1 when unset. PyTorch's workers are
processes instead (``torchrun --nproc-per-node``)."""


def cpu_devices() -> int:
    """The CPU devices :data:`CPU_DEVICES_ENV` asks for (1 when unset); a value that is not
    a positive whole number is an error naming it."""
    text = os.environ.get(CPU_DEVICES_ENV, "1")
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"{CPU_DEVICES_ENV}={text!r}: expected a positive whole number of "
                         f"CPU devices")
    return int(text)


def eager_on_one_device() -> ValueError:
    """The refusal of ``--eager`` on several devices of one process."""
    return ValueError("--eager runs the chapter's step line by line on one device; drop it "
                      "to train data-parallel")


class WorkersLost(RuntimeError):
    """A collective with the other workers failed: one stopped, or none answered in time."""


@dataclass(frozen=True)
class Workers:
    """This process's place among the ``size`` worker processes of a run (one: ``size`` 1),
    each training on ``devices`` devices (:attr:`total` in all).

    ``any_of(flag)`` is True on every worker when ``flag`` is True on any (an all-reduce),
    so that a Ctrl-C seen by one worker stops all of them after the same step, and so
    that bad input seen by one worker while they start stops the others; it is the
    framework's collective, bounded by ``timeout_s``. ``close()`` leaves the framework's
    process group. ``group``
    is the framework's own handle on that group, for a backend whose step needs one
    (MXNet's ``dist_sync`` kvstore); None otherwise.
    """

    rank: int = 0
    size: int = 1
    timeout_s: float = DEFAULT_TIMEOUT_S
    devices: int = 1
    any_of: Callable[[bool], bool] = field(default=lambda flag: flag, compare=False)
    close: Callable[[], None] = field(default=lambda: None, compare=False)
    group: Any = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not 0 <= self.rank < self.size:
            raise ValueError(f"rank {self.rank} is not one of {self.size} workers")

    @property
    def total(self) -> int:
        """The devices of the run, over all processes: W, among which a batch is shared."""
        return self.size * self.devices

    @property
    def chief(self) -> bool:
        """Whether this worker writes the run's outputs (rank 0)."""
        return self.rank == 0

    def part(self, count: int) -> slice:
        """This worker's rows of a batch of ``count``: ``count`` split into ``size``
        consecutive parts as evenly as possible, the first parts the larger."""
        bounds = np.cumsum([0] + [len(p) for p in np.array_split(np.arange(count), self.size)])
        return slice(int(bounds[self.rank]), int(bounds[self.rank + 1]))


def check_batch_size(batch_size: int, num_images: int, workers: int) -> None:
    """Refuse a global batch that ``workers`` devices cannot share evenly: a batch size they
    do not divide, or an epoch's last, shorter batch they do not divide. The message says
    what to change."""
    if batch_size % workers:
        raise ValueError(f"--batch-size {batch_size} is not divisible by the {workers} "
                         f"workers: each worker takes batch/W images; choose a multiple of "
                         f"{workers}")
    last = num_images % batch_size
    if last % workers:
        raise ValueError(f"the last batch of each epoch has {last} of the {num_images} images, "
                         f"which the {workers} workers cannot share evenly; change "
                         f"--batch-size or the number of images")


def lost(workers: Workers, error: BaseException) -> WorkersLost:
    """The error every backend raises when a collective fails, naming the worker."""
    first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
    cause = f"{type(error).__name__}: {first_line}" if first_line else type(error).__name__
    return WorkersLost(f"worker {workers.rank} of {workers.size}: a collective with the other "
                       f"workers failed ({cause}); another worker stopped or did not answer "
                       f"within {workers.timeout_s:g} s (--worker-timeout). The last "
                       f"checkpoint is kept")


def reporting_lost_workers(function: Callable, workers: Workers,
                           is_lost: Callable[[Exception], bool]) -> Callable:
    """``function`` with a collective's failure reported as :class:`WorkersLost` (:func:`lost`);
    ``is_lost`` says which of the framework's errors are such failures."""

    def guarded(*args: Any) -> Any:
        try:
            return function(*args)
        except Exception as err:
            if is_lost(err):
                raise lost(workers, err) from err
            raise

    return guarded


DATA_PARALLEL_BACKENDS = ("torch", "tensorflow", "jax", "mxnet")
"""The backends whose ``start_workers`` trains data-parallel: all of them."""
