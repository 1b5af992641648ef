"""The chapter's two building blocks, as Gluon HybridBlocks (NCHW).

Sections "The Generator" (``G_block``) and "Discriminator" (``D_block``) of the chapter.

Unlike the chapter, the blocks take ``in_channels`` and initialise their
parameters when made (Gluon would otherwise defer both to the first call),
so that they are ready to use and to load weights into, like the other
backends' blocks.
"""

from __future__ import annotations

from mxnet import init
from mxnet.gluon import nn

from dcgan.config import BN_EPSILON, BN_MOMENTUM


def built(block: nn.HybridBlock) -> nn.HybridBlock:
    """``block`` with its parameters initialised, as the chapter's ``init.Normal(0.02)`` does
    (weights only; BatchNorm keeps gamma 1 and beta 0). Training then loads the shared
    initial weights over them."""
    block.initialize(init.Normal(0.02))
    return block


def batch_norm(channels: int) -> nn.BatchNorm:
    """BatchNorm with the shared constants (Gluon's defaults, written out)."""
    return nn.BatchNorm(momentum=BN_MOMENTUM, epsilon=BN_EPSILON, in_channels=channels)


class G_block(nn.HybridBlock):
    """Transposed convolution, BatchNorm, ReLU: (N, in, H, W) -> (N, out, 2H, 2W) by default."""

    def __init__(self, out_channels: int, in_channels: int = 3, kernel_size: int = 4,
                 strides: int = 2, padding: int = 1, **kwargs) -> None:
        super().__init__(**kwargs)
        self.conv2d_trans = nn.Conv2DTranspose(out_channels, kernel_size, strides, padding,
                                               in_channels=in_channels, use_bias=False)
        self.batch_norm = batch_norm(out_channels)
        self.activation = nn.Activation("relu")
        built(self)

    def hybrid_forward(self, F, X):
        """Upsample ``X``."""
        return self.activation(self.batch_norm(self.conv2d_trans(X)))


class D_block(nn.HybridBlock):
    """Convolution, BatchNorm, leaky ReLU: (N, in, H, W) -> (N, out, H/2, W/2) by default.

    ``alpha`` is the leaky ReLU's slope for negative inputs; 0 gives a plain ReLU.
    """

    def __init__(self, out_channels: int, in_channels: int = 3, kernel_size: int = 4,
                 strides: int = 2, padding: int = 1, alpha: float = 0.2, **kwargs) -> None:
        super().__init__(**kwargs)
        self.conv2d = nn.Conv2D(out_channels, kernel_size, strides, padding,
                                in_channels=in_channels, use_bias=False)
        self.batch_norm = batch_norm(out_channels)
        self.activation = nn.LeakyReLU(alpha)
        built(self)

    def hybrid_forward(self, F, X):
        """Downsample ``X``."""
        return self.activation(self.batch_norm(self.conv2d(X)))
