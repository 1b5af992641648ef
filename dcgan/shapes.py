"""The chapter's output-size arithmetic and the layer-by-layer shapes of the nets.

The tests state every expected shape through these functions instead of
copying numbers from a run, and the benchmark counts FLOPs from the same
layer table. Shapes are NCHW here (the PyTorch and MXNet layout);
:func:`in_layout` rewrites one for an NHWC backend.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Sequence

import numpy as np

Layout = Literal["NCHW", "NHWC"]


def conv_output_size(size: int, kernel_size: int = 4, strides: int = 2,
                     padding: int = 1) -> int:
    """Height (or width) after a convolution: ``floor((n + 2p - k) / s) + 1``."""
    return (size + 2 * padding - kernel_size) // strides + 1


def conv_transpose_output_size(size: int, kernel_size: int = 4, strides: int = 2,
                               padding: int = 1) -> int:
    """Height (or width) after a transposed convolution: ``s (n - 1) + k - 2p``.

    With the chapter's defaults (k=4, s=2, p=1) this doubles the size, and
    with s=1, p=0 it maps 1 to 4: the two claims the chapter makes.
    """
    return strides * (size - 1) + kernel_size - 2 * padding


@dataclass(frozen=True)
class Layer:
    """One convolution of a net, with the shape of its output for one example (C, H, W).

    ``block`` is True for a G_block / D_block (convolution, BatchNorm,
    activation) and False for the bare final convolution.
    """

    in_channels: int
    out_channels: int
    kernel_size: int
    strides: int
    padding: int
    transposed: bool
    block: bool
    in_size: int
    out_size: int

    @property
    def output_shape(self) -> tuple[int, int, int]:
        """(C, H, W) of the layer's output."""
        return (self.out_channels, self.out_size, self.out_size)

    def multiply_adds(self) -> int:
        """Multiply-adds of the convolution's forward pass for one example."""
        pixels = (self.in_size if self.transposed else self.out_size) ** 2
        return pixels * self.in_channels * self.out_channels * self.kernel_size ** 2


def _layers(channels: Sequence[int], size: int, strides: Sequence[int],
            paddings: Sequence[int], transposed: bool) -> list[Layer]:
    out_size = conv_transpose_output_size if transposed else conv_output_size
    layers = []
    for i, (s, p) in enumerate(zip(strides, paddings)):
        new_size = out_size(size, 4, s, p)
        layers.append(Layer(channels[i], channels[i + 1], 4, s, p, transposed,
                            block=i < len(strides) - 1, in_size=size, out_size=new_size))
        size = new_size
    return layers


def generator_layers(latent_dim: int = 100, n_G: int = 64) -> list[Layer]:
    """The chapter's net_G: four G_blocks and a final transposed convolution."""
    channels = [latent_dim, n_G * 8, n_G * 4, n_G * 2, n_G, 3]
    return _layers(channels, 1, strides=[1, 2, 2, 2, 2], paddings=[0, 1, 1, 1, 1],
                   transposed=True)


def discriminator_layers(n_D: int = 64, image_size: int = 64) -> list[Layer]:
    """The chapter's net_D: four D_blocks and a final 4x4 convolution to one logit."""
    channels = [3, n_D, n_D * 2, n_D * 4, n_D * 8, 1]
    return _layers(channels, image_size, strides=[2, 2, 2, 2, 1], paddings=[1, 1, 1, 1, 0],
                   transposed=False)


def in_layout(shape_nchw: Sequence[int], layout: Layout) -> tuple[int, ...]:
    """An NCHW shape written in ``layout`` (NHWC moves channels last)."""
    n, c, h, w = shape_nchw
    return (n, c, h, w) if layout == "NCHW" else (n, h, w, c)


def array_in_layout(array_nchw: np.ndarray, layout: Layout) -> np.ndarray:
    """An NCHW batch rewritten in ``layout`` (a contiguous copy for NHWC)."""
    if layout == "NCHW":
        return array_nchw
    return np.ascontiguousarray(array_nchw.transpose(0, 2, 3, 1))


def array_to_nchw(array: np.ndarray, layout: Layout) -> np.ndarray:
    """A batch in ``layout`` rewritten as NCHW."""
    if layout == "NCHW":
        return array
    return np.ascontiguousarray(array.transpose(0, 3, 1, 2))


def noise_shape(batch_size: int, latent_dim: int, layout: Layout) -> tuple[int, ...]:
    """Shape of the generator's input: (N, latent_dim, 1, 1) in NCHW, (N, 1, 1, latent_dim) in
    NHWC."""
    return in_layout((batch_size, latent_dim, 1, 1), layout)
