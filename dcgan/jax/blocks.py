"""The chapter's two building blocks, in Flax NNX (NHWC).

Sections "The Generator" (``G_block``) and "Discriminator" (``D_block``) of the chapter.

The blocks take the other backends' arguments, integer padding included.
Flax's convolutions pad explicitly per side; a transposed convolution is
the gradient of a convolution, so PyTorch's ``padding=p`` becomes
``kernel_size - 1 - p`` on each side of the dilated input, with
``transpose_kernel=True`` (the kernel used as the forward convolution's,
(kh, kw, out, in) like Keras's). ``tests/test_jax.py`` checks both against
the formulas of ``dcgan.shapes``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

from dcgan.config import BN_EPSILON, BN_MOMENTUM

_compute_dtype: jnp.dtype | None = None


def set_compute_dtype(dtype: jnp.dtype | None) -> None:
    """The dtype in which the convolutions made after this call compute (None: their
    inputs' and weights', float32), as Keras's global dtype policy; the weights stay
    float32 and BatchNorm computes in float32 either way."""
    global _compute_dtype
    _compute_dtype = dtype


def compute_dtype() -> jnp.dtype | None:
    """The dtype :func:`set_compute_dtype` chose (None before any call)."""
    return _compute_dtype


def batch_norm(channels: int, rngs: nnx.Rngs) -> nnx.BatchNorm:
    """BatchNorm with the shared constants (Flax's momentum is the weight of the old
    running statistic, as Keras's and Gluon's), computing the variance as the mean of
    squared deviations, as the other frameworks do, not Flax's faster E[x^2] - E[x]^2,
    which cancels digits when a channel's mean is large next to its spread."""
    return nnx.BatchNorm(channels, momentum=BN_MOMENTUM, epsilon=BN_EPSILON,
                         use_fast_variance=False, dtype=jnp.float32, rngs=rngs)


class G_block(nnx.Module):
    """Transposed convolution, BatchNorm, ReLU: (N, H, W, in) -> (N, 2H, 2W, out) by default.

    ``rngs`` draws the initial weights (Flax's own initialisers; training
    replaces them with the shared N(0, 0.02) draw of ``dcgan.weights``).
    """

    def __init__(self, out_channels: int, in_channels: int = 3, kernel_size: int = 4,
                 strides: int = 2, padding: int = 1, *, rngs: nnx.Rngs | None = None) -> None:
        rngs = rngs if rngs is not None else nnx.Rngs(0)
        side = kernel_size - 1 - padding
        self.conv2d_trans = nnx.ConvTranspose(
            in_channels, out_channels, (kernel_size, kernel_size), strides=strides,
            padding=[(side, side), (side, side)], use_bias=False, transpose_kernel=True,
            dtype=compute_dtype(), rngs=rngs)
        self.batch_norm = batch_norm(out_channels, rngs)

    def __call__(self, X: jax.Array) -> jax.Array:
        """Upsample ``X``; BatchNorm uses batch statistics in training mode (``net.train()``)
        and running statistics in evaluation mode (``net.eval()``)."""
        return nnx.relu(self.batch_norm(self.conv2d_trans(X)))


class D_block(nnx.Module):
    """Convolution, BatchNorm, leaky ReLU: (N, H, W, in) -> (N, H/2, W/2, out) by default.

    ``alpha`` is the leaky ReLU's slope for negative inputs; 0 gives a plain ReLU.
    """

    def __init__(self, out_channels: int, in_channels: int = 3, kernel_size: int = 4,
                 strides: int = 2, padding: int = 1, alpha: float = 0.2, *,
                 rngs: nnx.Rngs | None = None) -> None:
        rngs = rngs if rngs is not None else nnx.Rngs(0)
        self.conv2d = nnx.Conv(in_channels, out_channels, (kernel_size, kernel_size),
                               strides=strides, padding=[(padding, padding)] * 2,
                               use_bias=False, dtype=compute_dtype(), rngs=rngs)
        self.batch_norm = batch_norm(out_channels, rngs)
        self.alpha = alpha

    def __call__(self, X: jax.Array) -> jax.Array:
        """Downsample ``X``."""
        return nnx.leaky_relu(self.batch_norm(self.conv2d(X)), self.alpha)
