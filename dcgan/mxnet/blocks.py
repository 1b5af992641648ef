"""The chapter's two building blocks, as Gluon HybridBlocks (NCHW).

Sections "The Generator" (``G_block``) and "Discriminator" (``D_block``) of the chapter.

Unlike the chapter, the blocks take ``in_channels`` and initialise their
parameters when made (Gluon would otherwise defer both to the first call),
so that they are ready to use and to load weights into, like the other
backends' blocks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from mxnet import autograd, init, np
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


RunningUpdates = list[tuple[nn.BatchNorm, np.ndarray, np.ndarray]]
"""The running-statistics updates that :func:`global_batch_norm` calls owe, in the order of
the calls: ``(batch_norm, mean, variance)``; :func:`update_running_statistics` applies them."""


@dataclass(frozen=True)
class Processes:
    """The worker processes among which a data-parallel run's batch is shared: ``size`` of
    them, each with an equal part, and ``sum``, a sum of an array over all of them that
    autograd differentiates (its gradient is the sum of the processes' gradients). One
    process: the array itself."""

    size: int = 1
    sum: Callable[[np.ndarray], np.ndarray] = lambda array: array


def global_batch_norm(batch_norm: nn.BatchNorm, parts: list[np.ndarray],
                      pending: RunningUpdates,
                      processes: Processes = Processes()) -> list[np.ndarray]:
    """``batch_norm`` on the parts of one batch, each on its own device, as on the whole
    batch: in training mode with the statistics of all the parts (each part's channel sums
    copied to the first part's device and added there, copies that autograd
    differentiates, then summed over the ``processes`` of the run; two passes, mean then
    squared deviations, as Gluon's BatchNorm); otherwise each part on the running
    statistics.

    Gluon's BatchNorm updates its running statistics in the backward pass, so only a call
    that autograd records updates them, last call first (docs/framework-differences.md,
    §9): a recorded call appends its update to ``pending``, for
    :func:`update_running_statistics` after the backward pass. Gluon's own
    ``contrib.nn.SyncBatchNorm`` hangs on CPU contexts (docs/framework-differences.md,
    §14), so the data-parallel step calls this between the layers of every device in turn
    (:func:`dcgan.mxnet.nets.forward_on_devices`).
    """
    if not autograd.is_training():
        return [batch_norm(X) for X in parts]
    home = parts[0].ctx
    count = sum(X.shape[0] * X.shape[2] * X.shape[3] for X in parts) * processes.size

    def on(array: np.ndarray, X: np.ndarray) -> np.ndarray:
        return array.as_in_ctx(X.ctx).reshape(1, -1, 1, 1)

    mean = processes.sum(sum(X.sum(axis=(0, 2, 3)).as_in_ctx(home) for X in parts)) / count
    var = processes.sum(sum(((X - on(mean, X)) ** 2).sum(axis=(0, 2, 3)).as_in_ctx(home)
                            for X in parts)) / count
    if autograd.is_recording():
        pending.append((batch_norm, mean.detach(), var.detach()))
    return [(X - on(mean, X)) / np.sqrt(on(var, X) + BN_EPSILON)
            * on(batch_norm.gamma.data(X.ctx), X) + on(batch_norm.beta.data(X.ctx), X)
            for X in parts]


def update_running_statistics(pending: RunningUpdates) -> None:
    """Apply and clear the updates :func:`global_batch_norm` owes, last first, as Gluon's
    backward pass does: on every device, ``momentum`` times the old plus the rest times the
    batch's (biased) statistic."""
    while pending:
        batch_norm, mean, var = pending.pop()
        for running, batch in ((batch_norm.running_mean, mean), (batch_norm.running_var, var)):
            running.set_data(running.data(batch.ctx) * BN_MOMENTUM + batch * (1 - BN_MOMENTUM))


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
