"""The chapter's input pipeline in Gluon: ImageFolderDataset and a DataLoader.

Section "The Pokemon Dataset" of the chapter.

The chapter composes ``Resize``, ``ToTensor`` and ``Normalize`` transform
blocks and decodes in worker processes. We decode and resize with the shared
``dcgan.datasets.read_image`` (OpenCV's decoder, behind Gluon's, drops an
alpha channel rather than compositing it, and its resize does not
antialias), so that all backends read the same pixels, apply the
chapter's other two operators as a plain function, and decode in worker
threads: threads skip the copy of every batch through shared memory, which
made training wait for data, and Gluon's transform blocks cannot run in
threads (entering a block's name scope from several threads at once fails).
With ``in_memory=True`` the images are decoded once and held as uint8 on the
context (``dcgan.datasets.memory``), each batch gathered and scaled there by
the same two operators.
"""

from __future__ import annotations

from pathlib import Path

import mxnet as mx
import numpy as onp
from mxnet import gluon, np, npx

from dcgan.datasets import read_image
from dcgan.datasets.memory import in_memory_batches
from dcgan.distributed import Workers
from dcgan.randomness import EpochBatches, EpochOrder


class _ImageFolder(gluon.data.vision.ImageFolderDataset):
    """Gluon's ImageFolderDataset, decoding with the shared ``read_image`` (64x64 RGB)."""

    def __getitem__(self, idx: int) -> tuple[np.ndarray, int]:
        path, label = self.items[idx]
        return np.array(read_image(path), dtype=onp.uint8), label


def _to_input(image: np.ndarray) -> np.ndarray:
    """64x64 HWC uint8 images (one, or a batch) as the nets' input: ``ToTensor()`` (CHW in
    [0, 1]) and ``Normalize(0.5, 0.5)`` (to [-1, 1]), the chapter's transforms' operators."""
    return npx.image.normalize(npx.image.to_tensor(image), 0.5, 0.5)


def load_data(folder: str | Path, batch_size: int, num_workers: int = 0,
              shuffle: bool = True, seed: int = 0, in_memory: bool = False,
              device: mx.Context | None = None,
              workers: Workers | None = None) -> EpochBatches:
    """Batches ``(X, labels)`` of the image folder, X (N, 3, 64, 64) scaled to [-1, 1].

    Each epoch's order comes from ``seed`` and the epoch (``dcgan.randomness``),
    so two runs, and a resumed run, see the same batches. The DataLoader is
    the result's ``loader``; with ``in_memory`` the images are held as uint8 on
    ``device`` instead and the batches, the same numbers, are made there.
    ``workers`` (``dcgan.distributed``): a data-parallel run's worker, which gets only its
    part of each global batch of ``batch_size``.
    """
    if in_memory:
        return in_memory_batches(
            folder, batch_size, num_workers, shuffle, seed,
            lambda images: np.array(images, dtype=onp.uint8, ctx=device or mx.cpu()),
            lambda images, indices: _to_input(images[np.array(indices, ctx=images.ctx)]),
            workers)
    dataset = _ImageFolder(str(folder)).transform_first(_to_input)
    order = EpochOrder(len(dataset), seed, shuffle, batch_size, workers)
    loader = gluon.data.DataLoader(dataset, batch_size=order.local_batch_size, sampler=order,
                                   num_workers=num_workers, thread_pool=num_workers > 0)
    return EpochBatches(loader, order, order.local_batch_size)


def as_tensor(array: onp.ndarray, device: mx.Context | None = None) -> np.ndarray:
    """A float32 numpy array (NCHW) as an MXNet numpy array on ``device``."""
    return np.array(onp.asarray(array, dtype=onp.float32), ctx=device or mx.cpu())


def as_numpy(tensor: np.ndarray) -> onp.ndarray:
    """An MXNet array as a numpy array (NCHW)."""
    return tensor.asnumpy()
