"""The input pipeline in TensorFlow: ``tf.data`` over the shared image folder.

Section "The Pokemon Dataset" of the chapter.

The chapter's TF tab uses ``image_dataset_from_directory``; we list the files
with the shared ``dcgan.datasets.labelled_images`` and decode and resize them
with the shared ``dcgan.datasets.read_image`` instead, so that all
backends read exactly the same pixels (``tf.io.decode_image`` drops an alpha
channel rather than compositing it, and ``tf.image.resize`` does not
antialias), and build the ``tf.data`` pipeline (order, decode, scale to
[-1, 1], batch, prefetch) here.
The order is the shared ``dcgan.randomness.EpochOrder`` rather than
``Dataset.shuffle``, whose order depends on how often the dataset has been
iterated and so cannot be resumed. With ``in_memory=True`` the images are
decoded once and held as uint8 on the device (``dcgan.datasets.memory``),
each batch gathered and scaled there by the same operators.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tensorflow as tf

from dcgan.datasets import IMAGE_SIZE, labelled_images, read_image
from dcgan.datasets.memory import in_memory_batches
from dcgan.distributed import Workers
from dcgan.randomness import EpochBatches, EpochOrder


def _to_input(images: tf.Tensor) -> tf.Tensor:
    """uint8 images as the nets' input in [-1, 1]: ToTensor then Normalize(0.5, 0.5) in the
    other backends, x / 255 * 2 - 1."""
    return tf.cast(images, tf.float32) / 127.5 - 1.0


def _decode(path: tf.Tensor, label: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    image = tf.numpy_function(read_image, [path], tf.uint8, stateful=False)
    return _to_input(tf.ensure_shape(image, (IMAGE_SIZE, IMAGE_SIZE, 3))), label


def load_data(folder: str | Path, batch_size: int, num_workers: int = 0,
              shuffle: bool = True, seed: int = 0, in_memory: bool = False,
              device: str | None = None,
              workers: Workers | None = None) -> EpochBatches:
    """Batches ``(X, labels)`` of the image folder, X (N, 64, 64, 3) scaled to [-1, 1].

    ``num_workers`` images are decoded in parallel (0: one at a time). Each
    epoch's order comes from ``seed`` and the epoch (``dcgan.randomness``),
    so two runs, and a resumed run, see the same batches. The
    ``tf.data.Dataset`` is the result's ``loader``; with ``in_memory`` the
    images are held as uint8 on ``device`` instead and the batches, the same
    numbers, are made there.
    ``workers`` (``dcgan.distributed``): a data-parallel run's worker, which gets only its
    part of each global batch of ``batch_size``.
    """
    if in_memory:
        return in_memory_batches(folder, batch_size, num_workers, shuffle, seed,
                                 lambda images: _held(images, device), _scaled_batch, workers)
    paths, labels = labelled_images(folder)
    paths_t = tf.constant([str(p) for p in paths])
    labels_t = tf.constant(labels)
    order = EpochOrder(len(paths), seed, shuffle, batch_size, workers)
    # The generator runs once per pass over the dataset: it hands over that
    # epoch's whole order, which unbatch() turns back into single indices.
    indices = tf.data.Dataset.from_generator(
        lambda: iter([order.indices()]),
        output_signature=tf.TensorSpec((None,), tf.int64)).unbatch()
    dataset = indices.map(lambda i: (tf.gather(paths_t, i), tf.gather(labels_t, i)))
    if num_workers:
        dataset = dataset.map(_decode, num_parallel_calls=num_workers, deterministic=True)
    else:
        dataset = dataset.map(_decode)
    batch = order.local_batch_size
    return EpochBatches(dataset.batch(batch).prefetch(tf.data.AUTOTUNE), order, batch)


def _held(images: np.ndarray, device: str | None) -> tf.Tensor:
    """The decoded images as one uint8 tensor on ``device`` (TensorFlow's choice if None)."""
    if device is None:
        return tf.constant(images)
    with tf.device(device):
        return tf.identity(tf.constant(images))


def _scaled_batch(images: tf.Tensor, indices: np.ndarray) -> tf.Tensor:
    """The images at ``indices``, gathered and scaled on the device that holds them."""
    with tf.device(images.device):
        return _to_input(tf.gather(images, indices))


def as_tensor(array: np.ndarray, device: str | None = None) -> tf.Tensor:
    """A float32 numpy array (NHWC) as a tensor, placed on ``device`` if given."""
    array = np.ascontiguousarray(array, dtype=np.float32)
    if device is None:
        return tf.convert_to_tensor(array)
    with tf.device(device):
        return tf.identity(tf.convert_to_tensor(array))


def as_numpy(tensor: tf.Tensor) -> np.ndarray:
    """A tensor as a numpy array (NHWC)."""
    return np.asarray(tensor)
