"""The chapter's input pipeline in Gluon: ImageFolderDataset and a DataLoader."""

from __future__ import annotations

from pathlib import Path

import numpy as onp
import mxnet as mx
from mxnet import gluon, np

from dcgan.randomness import EpochBatches, EpochOrder

IMAGE_SIZE = 64


def load_data(folder: str | Path, batch_size: int, num_workers: int = 0,
              shuffle: bool = True, seed: int = 0) -> EpochBatches:
    """Batches ``(X, labels)`` of the image folder, X (N, 3, 64, 64) scaled to [-1, 1].

    Each epoch's order comes from ``seed`` and the epoch (``dcgan.randomness``),
    so two runs, and a resumed run, see the same batches. The DataLoader is
    the result's ``loader``.
    """
    transformer = gluon.data.vision.transforms.Compose([
        gluon.data.vision.transforms.Resize(IMAGE_SIZE),
        gluon.data.vision.transforms.ToTensor(),
        gluon.data.vision.transforms.Normalize(0.5, 0.5)])
    dataset = gluon.data.vision.ImageFolderDataset(str(folder)).transform_first(transformer)
    order = EpochOrder(len(dataset), seed, shuffle)
    loader = gluon.data.DataLoader(dataset, batch_size=batch_size, sampler=order,
                                   num_workers=num_workers)
    return EpochBatches(loader, order, batch_size)


def as_tensor(array: onp.ndarray, device: mx.Context | None = None) -> np.ndarray:
    """A float32 numpy array (NCHW) as an MXNet numpy array on ``device``."""
    return np.array(onp.asarray(array, dtype=onp.float32), ctx=device or mx.cpu())


def as_numpy(tensor: np.ndarray) -> onp.ndarray:
    """An MXNet array as a numpy array (NCHW)."""
    return tensor.asnumpy()
