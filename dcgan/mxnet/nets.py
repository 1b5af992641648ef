"""The chapter's generator and discriminator, in Gluon (NCHW).

Sections "The Generator" (``net_G``) and "Discriminator" (``net_D``) of the chapter.

Shapes in the comments are for one example, (channels, height, width),
with the chapter's n_G = n_D = 64; ``dcgan.shapes`` derives them.
"""

from __future__ import annotations

from typing import Mapping

import mxnet as mx
import numpy as onp
from mxnet import autograd, gluon, np
from mxnet.gluon import nn

from dcgan.mxnet.blocks import (
    D_block,
    G_block,
    Processes,
    RunningUpdates,
    built,
    global_batch_norm,
)
from dcgan.precision import resolve_precision, unsupported
from dcgan.weights import check_arrays


def net_G(latent_dim: int = 100, n_G: int = 64) -> nn.HybridSequential:
    """The generator: noise (N, latent_dim, 1, 1) to images (N, 3, 64, 64) in (-1, 1)."""
    net = nn.HybridSequential()
    net.add(G_block(in_channels=latent_dim, out_channels=n_G * 8,
                    strides=1, padding=0),                        # Output: (64 * 8, 4, 4)
            G_block(in_channels=n_G * 8, out_channels=n_G * 4),  # Output: (64 * 4, 8, 8)
            G_block(in_channels=n_G * 4, out_channels=n_G * 2),  # Output: (64 * 2, 16, 16)
            G_block(in_channels=n_G * 2, out_channels=n_G),      # Output: (64, 32, 32)
            built(nn.Conv2DTranspose(3, kernel_size=4, strides=2, padding=1,
                                     in_channels=n_G, use_bias=False)),  # Output: (3, 64, 64)
            nn.Activation("tanh"))
    return net


def net_D(n_D: int = 64, alpha: float = 0.2) -> nn.HybridSequential:
    """The discriminator: images (N, 3, 64, 64) to one logit each, (N, 1, 1, 1)."""
    net = nn.HybridSequential()
    net.add(D_block(n_D, alpha=alpha),                                     # Output: (64, 32, 32)
            D_block(in_channels=n_D, out_channels=n_D * 2, alpha=alpha),  # Output: (64 * 2, 16, 16)
            D_block(in_channels=n_D * 2, out_channels=n_D * 4, alpha=alpha),  # (64 * 4, 8, 8)
            D_block(in_channels=n_D * 4, out_channels=n_D * 8, alpha=alpha),  # (64 * 8, 4, 4)
            built(nn.Conv2D(1, kernel_size=4, in_channels=n_D * 8,
                            use_bias=False)))                                  # Output: (1, 1, 1)
    return net


def layers(net: nn.HybridSequential) -> list[nn.HybridBlock]:
    """The net's layers in the chapter's order (the final tanh of net_G is its own layer)."""
    return [net[i] for i in range(len(net))]


def to_device(net: gluon.Block, device: mx.Context) -> gluon.Block:
    """The net with its parameters moved to ``device`` (Gluon's ``reset_ctx``, in place)."""
    net.collect_params().reset_ctx(device)
    return net


def use_precision(precision: str, device: mx.Context) -> str:
    """Check that ``precision`` (``dcgan.precision``) can run on ``device``; returns the
    resolved name. Only fp32 can: MXNet 1.9.1 has no switch for TF32 (cuDNN reads
    NVIDIA_TF32_OVERRIDE when it loads), and its AMP does not reach this backend's
    operators: ``amp.init(target_dtype="bfloat16")`` before the nets left one step's
    losses identical to fp32's, to the last digit (1.9.1's AMP rewrites the legacy
    ``mx.nd``/``mx.sym`` operators, not the numpy-semantics ones of ``npx.set_np()``
    that this backend and the book's MXNet tab use)."""
    on_gpu = device.device_type == "gpu"
    precision = resolve_precision("fp32" if precision == "auto" else precision, on_gpu)
    if precision == "tf32":
        raise unsupported("mxnet", precision, "on a GPU",
                          "MXNet 1.9.1 has no TF32 switch; cuDNN reads NVIDIA_TF32_OVERRIDE")
    if precision != "fp32":
        raise unsupported("mxnet", precision, f"on {'a GPU' if on_gpu else 'the CPU'}",
                          "MXNet 1.9.1's AMP does not rewrite the numpy-semantics operators")
    return precision


def forward(net: gluon.Block, X: np.ndarray, training: bool = False) -> np.ndarray:
    """``net(X)`` with BatchNorm on batch statistics (``training=True``, which also updates
    the running statistics) or on the running statistics; no gradient is recorded."""
    mode = autograd.train_mode() if training else autograd.predict_mode()
    with mode:
        return net(X)


def forward_on_devices(net: nn.HybridSequential, parts: list[np.ndarray],
                       pending: RunningUpdates,
                       processes: Processes = Processes()) -> list[np.ndarray]:
    """``net`` on the parts of one batch, each on its own device, as on the whole batch:
    layer by layer on every part in turn, BatchNorm with the statistics of all the parts
    of all the ``processes`` (:func:`dcgan.mxnet.blocks.global_batch_norm`, which appends
    the running statistics' updates a recorded call owes to ``pending``). The net's
    parameters must be on every part's device (``reset_ctx``); autograd records as it does
    for ``net(X)``."""
    for layer in layers(net):
        if isinstance(layer, (G_block, D_block)):
            conv = layer.conv2d_trans if isinstance(layer, G_block) else layer.conv2d
            normalised = global_batch_norm(layer.batch_norm, [conv(X) for X in parts],
                                           pending, processes)
            parts = [layer.activation(X) for X in normalised]
        else:
            parts = [layer(X) for X in parts]
    return parts


def _canonical_parameters(net: nn.HybridSequential) -> dict[str, gluon.Parameter]:
    """The net's parameters under their canonical names.

    Gluon's layouts are already the canonical ones, so nothing is transposed.
    """
    parameters: dict[str, gluon.Parameter] = {}
    for i, layer in enumerate(layers(net)):
        if isinstance(layer, (G_block, D_block)):
            conv_name = "conv2d_trans" if isinstance(layer, G_block) else "conv2d"
            parameters[f"{i}.{conv_name}.weight"] = getattr(layer, conv_name).weight
            bn = layer.batch_norm
            parameters.update({f"{i}.batch_norm.gamma": bn.gamma,
                               f"{i}.batch_norm.beta": bn.beta,
                               f"{i}.batch_norm.running_mean": bn.running_mean,
                               f"{i}.batch_norm.running_var": bn.running_var})
        elif isinstance(layer, nn.Conv2DTranspose):
            parameters[f"{i}.conv2d_trans.weight"] = layer.weight
        elif isinstance(layer, nn.Conv2D):
            parameters[f"{i}.conv2d.weight"] = layer.weight
    return parameters


def to_canonical(net: nn.HybridSequential) -> dict[str, onp.ndarray]:
    """The net's weights as ``{canonical name: numpy array}`` (see ``dcgan.weights``)."""
    return {name: p.list_data()[0].asnumpy() for name, p in _canonical_parameters(net).items()}


def from_canonical(net: nn.HybridSequential, arrays: Mapping[str, onp.ndarray]) -> None:
    """Load canonical weights into ``net``; every name and shape is checked before anything
    is set, so a mismatch leaves the net untouched."""
    parameters = _canonical_parameters(net)
    check_arrays({name: tuple(p.shape) for name, p in parameters.items()}, arrays,
                 "the weights for this net")
    for name, p in parameters.items():
        p.set_data(np.array(onp.asarray(arrays[name], dtype=onp.float32), ctx=p.list_ctx()[0]))
