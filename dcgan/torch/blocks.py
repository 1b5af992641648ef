"""The chapter's two building blocks, in PyTorch (NCHW).

Sections "The Generator" (``G_block``) and "Discriminator" (``D_block``) of the chapter.

``G_block`` upsamples: a transposed convolution (kernel 4, stride 2,
padding 1 doubles height and width), BatchNorm and ReLU. ``D_block``
downsamples: a convolution with the same hyperparameters halves them,
followed by BatchNorm and a leaky ReLU.
"""

from __future__ import annotations

import torch
from torch import nn

from dcgan.config import BN_EPSILON, BN_MOMENTUM


def batch_norm(channels: int) -> nn.BatchNorm2d:
    """BatchNorm with the shared constants (PyTorch's defaults, written out)."""
    # PyTorch's momentum weighs the *new* batch statistic, the opposite of
    # Keras and Gluon; see dcgan.config.BN_MOMENTUM.
    return nn.BatchNorm2d(channels, eps=BN_EPSILON, momentum=1 - BN_MOMENTUM)


class G_block(nn.Module):
    """Transposed convolution, BatchNorm, ReLU: (N, in, H, W) -> (N, out, 2H, 2W) by default."""

    def __init__(self, out_channels: int, in_channels: int = 3, kernel_size: int = 4,
                 strides: int = 2, padding: int = 1, **kwargs) -> None:
        super().__init__(**kwargs)
        self.conv2d_trans = nn.ConvTranspose2d(in_channels, out_channels, kernel_size,
                                               strides, padding, bias=False)
        self.batch_norm = batch_norm(out_channels)
        self.activation = nn.ReLU()

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """Upsample ``X``."""
        return self.activation(self.batch_norm(self.conv2d_trans(X)))


class D_block(nn.Module):
    """Convolution, BatchNorm, leaky ReLU: (N, in, H, W) -> (N, out, H/2, W/2) by default.

    ``alpha`` is the leaky ReLU's slope for negative inputs; 0 gives a plain ReLU.
    """

    def __init__(self, out_channels: int, in_channels: int = 3, kernel_size: int = 4,
                 strides: int = 2, padding: int = 1, alpha: float = 0.2, **kwargs) -> None:
        super().__init__(**kwargs)
        self.conv2d = nn.Conv2d(in_channels, out_channels, kernel_size, strides, padding,
                                bias=False)
        self.batch_norm = batch_norm(out_channels)
        self.activation = nn.LeakyReLU(alpha, inplace=True)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """Downsample ``X``."""
        return self.activation(self.batch_norm(self.conv2d(X)))
