"""Where a training run's randomness comes from, the same in every backend.

After initialisation a run draws two things: the order of the images in each
epoch and the noise ``Z`` of each step. Both are drawn with numpy from
generators keyed by the run's seed and the position in the run (epoch, and
step within the epoch), never from a generator whose state runs on across
the run. So

* a run stopped anywhere and resumed from a checkpoint, which records the
  seed and the position, goes on with exactly the draws it would have made:
  the resumed run is the uninterrupted one;
* all backends see the same images in the same order and the same
  noise, which keeps their runs comparable.

The chapter draws ``Z`` with the framework's own generator (``torch.normal``,
``tf.random.normal``, ``np.random.normal``) and shuffles with the
DataLoader's; the distributions are the same.
"""

from __future__ import annotations

from typing import Iterable, Iterator

import numpy as np

from dcgan.distributed import Workers
from dcgan.shapes import Layout, noise_shape

# Separate streams, so that the order and the noise never share draws.
_ORDER_STREAM = 1
_NOISE_STREAM = 2


def epoch_order(length: int, seed: int, epoch: int) -> np.ndarray:
    """The shuffled order of ``length`` examples in ``epoch`` (1-based) of a run."""
    return np.random.default_rng([seed, _ORDER_STREAM, epoch]).permutation(length)


def step_noise(seed: int, epoch: int, step: int, batch_size: int, latent_dim: int,
               layout: Layout) -> np.ndarray:
    """The noise ``Z ~ N(0, 1)`` of ``step`` (1-based) in ``epoch``, float32 in ``layout``."""
    rng = np.random.default_rng([seed, _NOISE_STREAM, epoch, step])
    return rng.standard_normal(noise_shape(batch_size, latent_dim, layout)).astype(np.float32)


class EpochOrder:
    """The example indices of the current epoch, as a sampler.

    PyTorch's and Gluon's ``DataLoader`` take it as ``sampler``, tf.data reads
    it through a generator. The order is :func:`epoch_order` of ``epoch``
    (or 0, 1, 2, ... without shuffling), beginning after ``start`` examples,
    where a resumed epoch continues. With ``workers`` of a data-parallel run
    (``dcgan.distributed``), each global batch of ``batch_size`` in that order
    gives this worker only its part: batches of :attr:`local_batch_size` of
    these indices are the worker's parts of the global batches, one for one.
    """

    def __init__(self, length: int, seed: int = 0, shuffle: bool = True,
                 batch_size: int | None = None, workers: Workers | None = None) -> None:
        self.length = length
        self.seed = seed
        self.shuffle = shuffle
        self.batch_size = batch_size
        self.workers = workers or Workers()
        if self.workers.size > 1 and batch_size is None:
            raise ValueError("a worker's share of the order needs the global batch size")
        self.epoch = 1
        self.start = 0

    @property
    def local_batch_size(self) -> int | None:
        """This worker's images of a full global batch (the batch size with one worker)."""
        return None if self.batch_size is None else self.batch_size // self.workers.size

    def global_batch_size(self, step: int) -> int:
        """The number of images of the ``step``-th (1-based) global batch of an epoch."""
        batch = self.batch_size or self.length
        return min(batch, self.length - (step - 1) * batch)

    def indices(self) -> np.ndarray:
        """This epoch's remaining indices (this worker's share of them), in order."""
        order = (epoch_order(self.length, self.seed, self.epoch) if self.shuffle
                 else np.arange(self.length))
        if self.workers.size > 1:
            batches = [order[first:first + self.batch_size]
                       for first in range(0, self.length, self.batch_size)]
            order = np.concatenate([b[self.workers.part(len(b))] for b in batches])
        return order[self.start:]

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices().tolist())

    def __len__(self) -> int:
        return len(self.indices())


class EpochBatches:
    """A framework's batch loader over an :class:`EpochOrder`: iterating it gives one epoch.

    Each complete pass moves on to the next epoch's order, as a shuffling
    DataLoader does. :meth:`set_epoch` picks the epoch (and, for a resumed
    run, how many of its batches were done already). ``loader`` is the
    framework's own object (``DataLoader``, ``tf.data.Dataset``).
    """

    def __init__(self, loader: Iterable, order: EpochOrder, batch_size: int) -> None:
        self.loader = loader
        self.order = order
        self.batch_size = batch_size

    @property
    def epoch(self) -> int:
        """The epoch the next pass gives."""
        return self.order.epoch

    def set_epoch(self, epoch: int, skip_batches: int = 0) -> None:
        """Make the next pass give ``epoch``'s batches, without its first ``skip_batches``."""
        if epoch < 1 or skip_batches < 0:
            raise ValueError(f"epoch must be 1 or more and skip_batches 0 or more, "
                             f"got {epoch} and {skip_batches}")
        self.order.epoch = epoch
        self.order.start = min(skip_batches * self.batch_size, self.order.length)

    def __iter__(self) -> Iterator:
        yield from self.loader
        self.set_epoch(self.order.epoch + 1)

    def __len__(self) -> int:
        return -(-len(self.order) // self.batch_size)

    def global_batch_size(self, step: int) -> int:
        """The images of the ``step``-th batch of an epoch, over all workers of the run."""
        return self.order.global_batch_size(step)
