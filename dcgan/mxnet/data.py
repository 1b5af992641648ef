"""The chapter's input pipeline in Gluon: ImageFolderDataset and a DataLoader.

The chapter composes ``Resize``, ``ToTensor`` and ``Normalize`` transform
blocks and decodes in worker processes. We apply the same three operators as
a plain function and decode in worker threads: threads skip the copy of every
batch through shared memory, which made training wait for data, and Gluon's
transform blocks cannot run in threads (entering a block's name scope from
several threads at once fails).
"""

from __future__ import annotations

from pathlib import Path

import numpy as onp
import mxnet as mx
from mxnet import gluon, np, npx

from dcgan.randomness import EpochBatches, EpochOrder

IMAGE_SIZE = 64


def _to_input(image: np.ndarray) -> np.ndarray:
    """An HWC uint8 image as the nets' input: ``Resize(64)``, ``ToTensor()`` (CHW in
    [0, 1]) and ``Normalize(0.5, 0.5)`` (to [-1, 1]), the chapter's transforms' operators."""
    resized = npx.image.resize(image, IMAGE_SIZE, False, 1)  # bilinear, as Resize's default
    return npx.image.normalize(npx.image.to_tensor(resized), 0.5, 0.5)


def load_data(folder: str | Path, batch_size: int, num_workers: int = 0,
              shuffle: bool = True, seed: int = 0) -> EpochBatches:
    """Batches ``(X, labels)`` of the image folder, X (N, 3, 64, 64) scaled to [-1, 1].

    Each epoch's order comes from ``seed`` and the epoch (``dcgan.randomness``),
    so two runs, and a resumed run, see the same batches. The DataLoader is
    the result's ``loader``.
    """
    dataset = gluon.data.vision.ImageFolderDataset(str(folder)).transform_first(_to_input)
    order = EpochOrder(len(dataset), seed, shuffle)
    loader = gluon.data.DataLoader(dataset, batch_size=batch_size, sampler=order,
                                   num_workers=num_workers, thread_pool=num_workers > 0)
    return EpochBatches(loader, order, batch_size)


def as_tensor(array: onp.ndarray, device: mx.Context | None = None) -> np.ndarray:
    """A float32 numpy array (NCHW) as an MXNet numpy array on ``device``."""
    return np.array(onp.asarray(array, dtype=onp.float32), ctx=device or mx.cpu())


def as_numpy(tensor: np.ndarray) -> onp.ndarray:
    """An MXNet array as a numpy array (NCHW)."""
    return tensor.asnumpy()
