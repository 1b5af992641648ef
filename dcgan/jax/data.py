"""The input pipeline in JAX: the image folder decoded once into memory, batched by index.

Section "The Pokemon Dataset" of the chapter.

JAX has no data loader of its own (Flax's examples use tf.data or Grain).
Every dataset of this project fits in memory, so the files are decoded once
with the shared ``dcgan.datasets.read_image`` (the same pixels as the other
backends) into one uint8 array on the device, and each batch is gathered
there by the epoch's order and scaled to [-1, 1] by a compiled function:
the chapter's ``ToTensor`` and ``Normalize(0.5, 0.5)``, without a copy of
float images on the host.
"""

from __future__ import annotations

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from dcgan.datasets.memory import in_memory_batches
from dcgan.distributed import Workers
from dcgan.randomness import EpochBatches

# The chapter's ToTensor (x / 255) then Normalize(0.5, 0.5) ((x - 0.5) / 0.5), in
# float32 as torchvision computes them, for each of the 256 pixel values: looking
# the pixels up gives the other backends' numbers exactly (XLA may turn a division
# by a constant into a multiplication, which rounds 255 to 1.0000001).
_PIXEL_VALUES = (np.arange(256, dtype=np.float32) / np.float32(255) - np.float32(0.5)) \
    / np.float32(0.5)


@jax.jit
def _to_input(images: jax.Array) -> jax.Array:
    """uint8 HWC images as the nets' input, float32 in [-1, 1]."""
    return jnp.asarray(_PIXEL_VALUES)[images]


def load_data(folder: str | Path, batch_size: int, num_workers: int = 0,
              shuffle: bool = True, seed: int = 0, in_memory: bool = True,
              device: jax.Device | None = None,
              workers: Workers | None = None) -> EpochBatches:
    """Batches ``(X, labels)`` of the image folder, X (N, 64, 64, 3) scaled to [-1, 1].

    The images are decoded once, ``num_workers`` at a time (0: one after
    another), and held on ``device`` (``dcgan.datasets.memory``): JAX's only
    input path, whatever ``in_memory`` says (it is the other backends'
    choice). Each epoch's order comes from ``seed`` and the epoch
    (``dcgan.randomness``), so two runs, and a resumed run, see the same
    batches.
    ``workers`` (``dcgan.distributed``): a data-parallel run's worker, which gets only its
    part of each global batch of ``batch_size``.
    """
    return in_memory_batches(folder, batch_size, num_workers, shuffle, seed,
                             lambda images: jax.device_put(images, device),
                             lambda images, indices: _to_input(images[jnp.asarray(indices)]),
                             workers)


def as_tensor(array: np.ndarray, device: jax.Device | None = None) -> jax.Array:
    """A float32 numpy array (NHWC) as a JAX array, on ``device`` if given."""
    return jax.device_put(np.ascontiguousarray(array, dtype=np.float32), device)


def as_numpy(tensor: jax.Array) -> np.ndarray:
    """A JAX array as a numpy array (NHWC)."""
    return np.asarray(tensor)
