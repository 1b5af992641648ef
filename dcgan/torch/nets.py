"""The chapter's generator and discriminator, in PyTorch (NCHW).

Sections "The Generator" (``net_G``) and "Discriminator" (``net_D``) of the chapter.

Shapes in the comments are for one example, (channels, height, width),
with the chapter's n_G = n_D = 64; ``dcgan.shapes`` derives them.
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import ContextManager, Mapping

import numpy as np
import torch
from torch import nn

from dcgan.precision import resolve_precision, unsupported
from dcgan.torch.blocks import D_block, G_block, GlobalBatchNorm2d
from dcgan.weights import check_arrays

_AUTOCAST_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}
_precision = "fp32"


def net_G(latent_dim: int = 100, n_G: int = 64) -> nn.Sequential:
    """The generator: noise (N, latent_dim, 1, 1) to images (N, 3, 64, 64) in (-1, 1)."""
    return nn.Sequential(
        G_block(in_channels=latent_dim, out_channels=n_G * 8,
                strides=1, padding=0),                        # Output: (64 * 8, 4, 4)
        G_block(in_channels=n_G * 8, out_channels=n_G * 4),  # Output: (64 * 4, 8, 8)
        G_block(in_channels=n_G * 4, out_channels=n_G * 2),  # Output: (64 * 2, 16, 16)
        G_block(in_channels=n_G * 2, out_channels=n_G),      # Output: (64, 32, 32)
        nn.ConvTranspose2d(in_channels=n_G, out_channels=3, kernel_size=4,
                           stride=2, padding=1, bias=False),  # Output: (3, 64, 64)
        nn.Tanh())


def net_D(n_D: int = 64, alpha: float = 0.2) -> nn.Sequential:
    """The discriminator: images (N, 3, 64, 64) to one logit each, (N, 1, 1, 1)."""
    return nn.Sequential(
        D_block(n_D, alpha=alpha),                                         # Output: (64, 32, 32)
        D_block(in_channels=n_D, out_channels=n_D * 2, alpha=alpha),      # Output: (64 * 2, 16, 16)
        D_block(in_channels=n_D * 2, out_channels=n_D * 4, alpha=alpha),  # Output: (64 * 4, 8, 8)
        D_block(in_channels=n_D * 4, out_channels=n_D * 8, alpha=alpha),  # Output: (64 * 8, 4, 4)
        nn.Conv2d(in_channels=n_D * 8, out_channels=1, kernel_size=4,
                  bias=False))                                             # Output: (1, 1, 1)


def layers(net: nn.Sequential) -> list[nn.Module]:
    """The net's layers in the chapter's order (the final Tanh of net_G is its own layer)."""
    return list(net)


def to_device(net: nn.Module, device: torch.device | str) -> nn.Module:
    """The net with its parameters and buffers moved to ``device`` (in place)."""
    return net.to(device)


def use_precision(precision: str, device: torch.device | str) -> str:
    """Make ``precision`` (``dcgan.precision``) the arithmetic of this process's nets on
    ``device``; returns the resolved name (``auto`` becomes fp32 or tf32).

    fp32 and tf32 are PyTorch's TF32 switches (both off for fp32: cuDNN's
    convolutions default to TF32 on a GPU); bf16 and fp16 are autocast around
    the forward passes (:func:`autocast`), which leaves the weights, BatchNorm's
    statistics and the losses in float32.
    """
    global _precision
    device = torch.device(device)
    precision = resolve_precision(precision, device.type == "cuda")
    if precision == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise unsupported("torch", precision, f"on {torch.cuda.get_device_name(device)}",
                          "the GPU has no bfloat16 arithmetic")
    torch.backends.cuda.matmul.allow_tf32 = precision == "tf32"
    torch.backends.cudnn.allow_tf32 = precision == "tf32"
    _precision = precision
    return precision


def precision_in_use() -> str:
    """The precision :func:`use_precision` chose last (fp32 before any call)."""
    return _precision


def autocast(device: torch.device | str) -> ContextManager:
    """The context of a forward pass at the precision :func:`use_precision` chose: autocast
    to 16 bits for bf16 and fp16, else nothing."""
    dtype = _AUTOCAST_DTYPES.get(_precision)
    if dtype is None:
        return nullcontext()
    return torch.autocast(torch.device(device).type, dtype=dtype)


def forward(net: nn.Module, X: torch.Tensor, training: bool = False) -> torch.Tensor:
    """``net(X)`` with BatchNorm on batch statistics (``training=True``, which also updates
    the running statistics) or on the running statistics; no gradient is recorded. The
    output is float32 whatever the precision."""
    was_training = net.training
    net.train(training)
    try:
        with torch.no_grad(), autocast(X.device):
            return net(X).float()
    finally:
        net.train(was_training)


def synchronize_batch_norm(net: nn.Sequential, device: torch.device | str) -> nn.Sequential:
    """Make every BatchNorm of ``net`` use the global batch of a data-parallel run:
    PyTorch's ``nn.SyncBatchNorm`` on a GPU, :class:`GlobalBatchNorm2d` elsewhere.

    The layers are replaced in place and keep their parameters and running statistics
    (the same tensors, so an optimizer made before goes on updating them); the canonical
    weights do not change. Returns ``net``.
    """
    for block in net:
        if not isinstance(block, (G_block, D_block)):
            continue
        old = block.batch_norm
        kind = nn.SyncBatchNorm if torch.device(device).type == "cuda" else GlobalBatchNorm2d
        new = kind(old.num_features, eps=old.eps, momentum=old.momentum)
        new.weight, new.bias = old.weight, old.bias
        new.running_mean, new.running_var = old.running_mean, old.running_var
        new.num_batches_tracked = old.num_batches_tracked
        new.train(old.training)
        block.batch_norm = new
    return net


def _canonical_tensors(net: nn.Sequential) -> dict[str, torch.Tensor]:
    """The net's parameters and BatchNorm statistics under their canonical names.

    PyTorch's layouts are already the canonical ones, so no tensor is transposed.
    """
    tensors: dict[str, torch.Tensor] = {}
    for i, layer in enumerate(net):
        if isinstance(layer, (G_block, D_block)):
            conv_name = "conv2d_trans" if isinstance(layer, G_block) else "conv2d"
            tensors[f"{i}.{conv_name}.weight"] = getattr(layer, conv_name).weight
            bn = layer.batch_norm
            tensors.update({f"{i}.batch_norm.gamma": bn.weight, f"{i}.batch_norm.beta": bn.bias,
                            f"{i}.batch_norm.running_mean": bn.running_mean,
                            f"{i}.batch_norm.running_var": bn.running_var})
        elif isinstance(layer, nn.ConvTranspose2d):
            tensors[f"{i}.conv2d_trans.weight"] = layer.weight
        elif isinstance(layer, nn.Conv2d):
            tensors[f"{i}.conv2d.weight"] = layer.weight
    return tensors


def to_canonical(net: nn.Sequential) -> dict[str, np.ndarray]:
    """The net's weights as ``{canonical name: numpy array}`` (see ``dcgan.weights``)."""
    return {name: t.detach().cpu().numpy().copy() for name, t in _canonical_tensors(net).items()}


def from_canonical(net: nn.Sequential, arrays: Mapping[str, np.ndarray]) -> None:
    """Load canonical weights into ``net``; every name and shape is checked before anything
    is copied, so a mismatch leaves the net untouched."""
    tensors = _canonical_tensors(net)
    check_arrays({name: tuple(t.shape) for name, t in tensors.items()}, arrays,
                 "the weights for this net")
    with torch.no_grad():
        for name, t in tensors.items():
            t.copy_(torch.as_tensor(np.asarray(arrays[name], dtype=np.float32)))
