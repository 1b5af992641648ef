"""The chapter's input pipeline in PyTorch: torchvision's ImageFolder and a DataLoader.

Section "The Pokemon Dataset" of the chapter.

The files are decoded and resized to 64x64 by the shared
``dcgan.datasets.read_image`` (the chapter's ``Resize((64, 64))`` as
torchvision does it on a PIL image, with every file format read the same way
in all backends); ``ToTensor`` and ``Normalize`` are the chapter's.
With ``in_memory=True`` the images are decoded once and held as uint8 on the
device (``dcgan.datasets.memory``), and each batch is gathered and scaled
there with the same two operators: the path that keeps a GPU busy.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torchvision
from torch.utils.data import DataLoader

from dcgan.datasets import read_image
from dcgan.datasets.memory import in_memory_batches
from dcgan.distributed import Workers
from dcgan.randomness import EpochBatches, EpochOrder


def load_data(folder: str | Path, batch_size: int, num_workers: int = 0,
              shuffle: bool = True, seed: int = 0, in_memory: bool = False,
              device: torch.device | str | None = None,
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
        return in_memory_batches(folder, batch_size, num_workers, shuffle, seed,
                                 lambda images: torch.from_numpy(images).to(device or "cpu"),
                                 _scaled_batch, workers)
    transform = torchvision.transforms.Compose([
        torchvision.transforms.ToTensor(),
        torchvision.transforms.Normalize(0.5, 0.5)])
    dataset = torchvision.datasets.ImageFolder(str(folder), transform=transform,
                                               loader=read_image)
    order = EpochOrder(len(dataset), seed, shuffle, batch_size, workers)
    loader = DataLoader(dataset, batch_size=order.local_batch_size, sampler=order,
                        num_workers=num_workers, persistent_workers=num_workers > 0)
    return EpochBatches(loader, order, order.local_batch_size)


def _scaled_batch(images: torch.Tensor, indices: np.ndarray) -> torch.Tensor:
    """The uint8 HWC images at ``indices`` as NCHW float32 in [-1, 1], computed where they
    are held with ``ToTensor``'s and ``Normalize(0.5, 0.5)``'s operators (so the same
    numbers as the pipeline); the channels-last memory order the default step uses."""
    batch = images[torch.from_numpy(indices).to(images.device)].permute(0, 3, 1, 2)
    return batch.float().div(255).sub(0.5).div(0.5)


def as_tensor(array: np.ndarray, device: torch.device | str | None = None) -> torch.Tensor:
    """A float32 numpy array (NCHW) as a tensor on ``device``."""
    return torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32)).to(device or "cpu")


def as_numpy(tensor: torch.Tensor) -> np.ndarray:
    """A tensor as a numpy array (NCHW), detached and on the CPU."""
    return tensor.detach().cpu().numpy()
