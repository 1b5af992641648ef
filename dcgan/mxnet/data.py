"""The chapter's input pipeline in Gluon: ImageFolderDataset and a DataLoader."""

from __future__ import annotations

from pathlib import Path

import numpy as onp
import mxnet as mx
from mxnet import gluon, np

IMAGE_SIZE = 64


class SeededShuffle(gluon.data.Sampler):
    """Sample indices in a fresh random order each epoch, from its own seeded generator
    (Gluon's shuffling draws from numpy's global one)."""

    def __init__(self, length: int, seed: int = 0) -> None:
        self._length = length
        self._rng = onp.random.default_rng(seed)

    def __iter__(self):
        return iter(self._rng.permutation(self._length).tolist())

    def __len__(self) -> int:
        return self._length


def load_data(folder: str | Path, batch_size: int, num_workers: int = 0,
              shuffle: bool = True, seed: int = 0) -> gluon.data.DataLoader:
    """Batches ``(X, labels)`` of the image folder, X (N, 3, 64, 64) scaled to [-1, 1].

    ``seed`` fixes the shuffling order, so two runs see the same batches.
    """
    transformer = gluon.data.vision.transforms.Compose([
        gluon.data.vision.transforms.Resize(IMAGE_SIZE),
        gluon.data.vision.transforms.ToTensor(),
        gluon.data.vision.transforms.Normalize(0.5, 0.5)])
    dataset = gluon.data.vision.ImageFolderDataset(str(folder)).transform_first(transformer)
    sampler = (SeededShuffle(len(dataset), seed) if shuffle
               else gluon.data.SequentialSampler(len(dataset)))
    return gluon.data.DataLoader(dataset, batch_size=batch_size, sampler=sampler,
                                 num_workers=num_workers)


def as_tensor(array: onp.ndarray, device: mx.Context | None = None) -> np.ndarray:
    """A float32 numpy array (NCHW) as an MXNet numpy array on ``device``."""
    return np.array(onp.asarray(array, dtype=onp.float32), ctx=device or mx.cpu())


def as_numpy(tensor: np.ndarray) -> onp.ndarray:
    """An MXNet array as a numpy array (NCHW)."""
    return tensor.asnumpy()
