"""An image folder held in memory as uint8, batched by index: the input path for a GPU.

Every dataset of this project fits in memory (2,000 sprites: 24 MiB; 90,000
Pokemon frames: 1.1 GiB). Decoding the files once and keeping them as one
uint8 array where the nets run (on the GPU, where the framework allows it)
leaves each step with one gather and the chapter's ``ToTensor`` and
``Normalize(0.5, 0.5)`` on the device, and no per-image work on the host: the
file pipelines (DataLoader, tf.data) decode every image again in every epoch.
The batches are the pipelines' own, in the same order: each framework's
``batch_of`` does the scaling with the same operators as its pipeline.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from dcgan.datasets.folders import labelled_images
from dcgan.datasets.images import decode_images
from dcgan.distributed import Workers
from dcgan.randomness import EpochBatches, EpochOrder

INPUTS = ("auto", "pipeline", "memory")
"""The choices of ``--input``: the framework's file pipeline, the images held in memory, or
``auto``: in memory on a GPU, the chapter's pipeline on the CPU."""


def resolve_input(choice: str, on_gpu: bool) -> str:
    """``pipeline`` or ``memory``, what ``choice`` stands for on a GPU (``on_gpu``) or a CPU."""
    if choice not in INPUTS:
        raise ValueError(f"unknown input {choice!r}; choose one of {', '.join(INPUTS)}")
    if choice == "auto":
        return "memory" if on_gpu else "pipeline"
    return choice


class InMemoryLoader:
    """The batches ``(X, labels)`` of ``order``'s current epoch, X from ``batch_of(indices)``:
    the framework gathers those images where it holds them and scales them to [-1, 1]."""

    def __init__(self, batch_of: Callable[[np.ndarray], Any], labels: np.ndarray,
                 order: EpochOrder, batch_size: int) -> None:
        self.batch_of = batch_of
        self.labels = labels
        self.order = order
        self.batch_size = batch_size

    def __iter__(self) -> Iterator[tuple[Any, np.ndarray]]:
        indices = self.order.indices()
        for start in range(0, len(indices), self.batch_size):
            batch = indices[start:start + self.batch_size]
            yield self.batch_of(batch), self.labels[batch]

    def __len__(self) -> int:
        return -(-len(self.order) // self.batch_size)


def in_memory_batches(folder: str | Path, batch_size: int, num_workers: int, shuffle: bool,
                      seed: int, hold: Callable[[np.ndarray], Any],
                      scaled_batch: Callable[[Any, np.ndarray], Any],
                      workers: Workers | None = None) -> EpochBatches:
    """The image folder decoded once (``num_workers`` threads; 0: one after another) into
    uint8 (N, 64, 64, 3), handed to ``hold`` (which puts it where the framework keeps it),
    and batched by the seeded order of ``dcgan.randomness``: each batch is
    ``scaled_batch(held, indices)``. The :class:`InMemoryLoader` is the result's ``loader``.
    ``workers``: a data-parallel run's worker, which gets its part of every batch.
    """
    paths, labels = labelled_images(Path(folder))
    order = EpochOrder(len(paths), seed, shuffle, batch_size, workers)
    images = hold(decode_images(paths, num_workers))
    loader = InMemoryLoader(lambda indices: scaled_batch(images, indices), np.asarray(labels),
                            order, order.local_batch_size)
    return EpochBatches(loader, order, order.local_batch_size)
