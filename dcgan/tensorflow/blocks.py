"""The chapter's two building blocks, in Keras 3 (NHWC).

Sections "The Generator" (``G_block``) and "Discriminator" (``D_block``) of the chapter.

The blocks take the same arguments as the PyTorch and MXNet ones, integer
padding included: Keras only knows ``"valid"`` and ``"same"``, so
:func:`keras_padding` translates. For the chapter's sizes, padding 1 with
kernel 4 and stride 2 is ``"same"`` (one pixel on each side, proved by
``tests/test_tensorflow.py``) and padding 0 is ``"valid"``.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from dcgan.config import BN_EPSILON, BN_MOMENTUM


def keras_padding(padding: int | str, kernel_size: int, strides: int) -> str:
    """The Keras padding mode equal to PyTorch's integer ``padding`` for these sizes.

    ``"same"`` pads ``kernel_size - strides`` in total, split evenly, when the
    input size is a multiple of the stride (always so in the chapter's nets).
    A Keras mode name is passed through.
    """
    if isinstance(padding, str):
        return padding
    if padding == 0:
        return "valid"
    if 2 * padding == kernel_size - strides:
        return "same"
    raise ValueError(f"padding={padding} has no Keras equivalent for kernel_size={kernel_size} "
                     f"and strides={strides}: Keras pads 0 ('valid') or "
                     f"{(kernel_size - strides) / 2:g} per side ('same')")


def batch_norm() -> keras.layers.BatchNormalization:
    """BatchNorm with PyTorch's and Gluon's constants; Keras's defaults are epsilon 1e-3 and
    momentum 0.99."""
    return keras.layers.BatchNormalization(momentum=BN_MOMENTUM, epsilon=BN_EPSILON)


class G_block(keras.layers.Layer):
    """Transposed convolution, BatchNorm, ReLU: (N, H, W, in) -> (N, 2H, 2W, out) by default.

    ``in_channels`` is accepted for symmetry with the other backends; Keras
    reads the input channels from the first input.
    """

    def __init__(self, out_channels: int, in_channels: int = 3, kernel_size: int = 4,
                 strides: int = 2, padding: int | str = 1, **kwargs) -> None:
        super().__init__(**kwargs)
        self.conv2d_trans = keras.layers.Conv2DTranspose(
            out_channels, kernel_size, strides, keras_padding(padding, kernel_size, strides),
            use_bias=False)
        self.batch_norm = batch_norm()
        self.activation = keras.layers.ReLU()

    def call(self, X: tf.Tensor, training: bool | None = None) -> tf.Tensor:
        """Upsample ``X``; ``training=True`` makes BatchNorm use (and update) batch statistics."""
        return self.activation(self.batch_norm(self.conv2d_trans(X), training=training))


class D_block(keras.layers.Layer):
    """Convolution, BatchNorm, leaky ReLU: (N, H, W, in) -> (N, H/2, W/2, out) by default.

    ``alpha`` is the leaky ReLU's slope for negative inputs (Keras 3 calls it
    ``negative_slope``); 0 gives a plain ReLU.
    """

    def __init__(self, out_channels: int, in_channels: int = 3, kernel_size: int = 4,
                 strides: int = 2, padding: int | str = 1, alpha: float = 0.2,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.conv2d = keras.layers.Conv2D(
            out_channels, kernel_size, strides, keras_padding(padding, kernel_size, strides),
            use_bias=False)
        self.batch_norm = batch_norm()
        self.activation = keras.layers.LeakyReLU(negative_slope=alpha)

    def call(self, X: tf.Tensor, training: bool | None = None) -> tf.Tensor:
        """Downsample ``X``; ``training=True`` makes BatchNorm use (and update) batch statistics."""
        return self.activation(self.batch_norm(self.conv2d(X), training=training))
