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
from torch.distributed import _functional_collectives as collectives

from dcgan.config import BN_EPSILON, BN_MOMENTUM


def batch_norm(channels: int) -> nn.BatchNorm2d:
    """BatchNorm with the shared constants (PyTorch's defaults, written out)."""
    # PyTorch's momentum weighs the *new* batch statistic, the opposite of
    # Keras and Gluon; see dcgan.config.BN_MOMENTUM.
    return nn.BatchNorm2d(channels, eps=BN_EPSILON, momentum=1 - BN_MOMENTUM)


class GlobalBatchNorm2d(nn.BatchNorm2d):
    """BatchNorm over the global batch of a data-parallel run: the batch statistics are
    summed over the workers (all-reduces that autograd differentiates), so W workers
    normalise as one worker with the whole batch does, on any process-group backend.

    PyTorch's own ``nn.SyncBatchNorm`` does this on GPUs only (its forward refuses CPU
    tensors); :func:`dcgan.torch.nets.synchronize_batch_norm` takes it there. The mean
    and variance are computed in two passes, as ``BatchNorm2d`` does, in float32; the
    running statistics are updated as ``BatchNorm2d`` updates them (the unbiased variance
    of the global batch). Outside training it is ``BatchNorm2d``, without collectives.
    """

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """Normalise ``X`` (N, C, H, W) with the global batch's statistics when training."""
        if not self.training:
            return super().forward(X)
        x = X.float()
        axes = (0, 2, 3)
        count = torch.full((1,), x.numel() // x.shape[1], dtype=x.dtype, device=x.device)
        sums = _summed(torch.cat([x.sum(axes), count]))
        n, mean = sums[-1], sums[:-1] / sums[-1]
        centered = x - mean.reshape(1, -1, 1, 1)
        var = _summed((centered * centered).sum(axes)) / n
        with torch.no_grad():
            self.num_batches_tracked.add_(1)
            self.running_mean.lerp_(mean, self.momentum)
            self.running_var.lerp_(var * n / (n - 1), self.momentum)
        scale = self.weight * torch.rsqrt(var + self.eps)
        return (centered * scale.reshape(1, -1, 1, 1)
                + self.bias.reshape(1, -1, 1, 1)).to(X.dtype)


def _summed(tensor: torch.Tensor) -> torch.Tensor:
    """The sum of ``tensor`` over the workers, which autograd differentiates (the gradient
    is the sum of the workers' gradients). PyTorch 2.14 deprecates
    ``torch.distributed.nn.functional.all_reduce`` for this functional collective."""
    return collectives.all_reduce(tensor, "sum", torch.distributed.group.WORLD)


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
