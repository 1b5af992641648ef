"""The chapter's generator and discriminator, in Flax NNX (NHWC).

Sections "The Generator" (``net_G``) and "Discriminator" (``net_D``) of the chapter.

Shapes in the comments are for one example, (height, width, channels),
with the chapter's n_G = n_D = 64; ``dcgan.shapes`` derives them. NNX
modules hold their arrays (parameters, BatchNorm statistics) as mutable
attributes, so the nets are used like the other backends' objects; a
training-mode call updates the running statistics in place.
"""

from __future__ import annotations

from typing import Mapping

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from dcgan.jax.blocks import D_block, G_block, compute_dtype, set_compute_dtype
from dcgan.precision import resolve_precision, unsupported
from dcgan.weights import check_arrays

# Flax kernels are (kh, kw, in, out) for Conv and, with transpose_kernel=True,
# (kh, kw, out, in) for ConvTranspose, as Keras's; the canonical layouts are
# (out, in, kh, kw) and (in, out, kh, kw): the same permutation for both.
_FLAX_TO_CANONICAL = (3, 2, 0, 1)
_CANONICAL_TO_FLAX = (2, 3, 1, 0)


def net_G(latent_dim: int = 100, n_G: int = 64, *,
          rngs: nnx.Rngs | None = None) -> nnx.Sequential:
    """The generator: noise (N, 1, 1, latent_dim) to images (N, 64, 64, 3) in (-1, 1)."""
    rngs = rngs if rngs is not None else nnx.Rngs(0)
    return nnx.Sequential(
        G_block(in_channels=latent_dim, out_channels=n_G * 8,
                strides=1, padding=0, rngs=rngs),                        # Output: (4, 4, 64 * 8)
        G_block(in_channels=n_G * 8, out_channels=n_G * 4, rngs=rngs),  # Output: (8, 8, 64 * 4)
        G_block(in_channels=n_G * 4, out_channels=n_G * 2, rngs=rngs),  # Output: (16, 16, 64 * 2)
        G_block(in_channels=n_G * 2, out_channels=n_G, rngs=rngs),      # Output: (32, 32, 64)
        nnx.ConvTranspose(n_G, 3, (4, 4), strides=2, padding=[(2, 2), (2, 2)],
                          use_bias=False, transpose_kernel=True, dtype=compute_dtype(),
                          rngs=rngs),                                    # Output: (64, 64, 3)
        jnp.tanh)


def net_D(n_D: int = 64, alpha: float = 0.2, *,
          rngs: nnx.Rngs | None = None) -> nnx.Sequential:
    """The discriminator: images (N, 64, 64, 3) to one logit each, (N, 1, 1, 1)."""
    rngs = rngs if rngs is not None else nnx.Rngs(0)
    return nnx.Sequential(
        D_block(n_D, alpha=alpha, rngs=rngs),                                # (32, 32, 64)
        D_block(in_channels=n_D, out_channels=n_D * 2, alpha=alpha, rngs=rngs),      # (16, 16, 128)
        D_block(in_channels=n_D * 2, out_channels=n_D * 4, alpha=alpha, rngs=rngs),  # (8, 8, 256)
        D_block(in_channels=n_D * 4, out_channels=n_D * 8, alpha=alpha, rngs=rngs),  # (4, 4, 512)
        nnx.Conv(n_D * 8, 1, (4, 4), padding="VALID", use_bias=False, dtype=compute_dtype(),
                 rngs=rngs))                                                  # Output: (1, 1, 1)


def layers(net: nnx.Sequential) -> list:
    """The net's layers in the chapter's order (the final tanh of net_G is its own layer)."""
    return list(net.layers)


def to_device(net: nnx.Module, device: jax.Device) -> nnx.Module:
    """The net with its arrays moved to ``device`` (in place)."""
    nnx.update(net, jax.device_put(nnx.state(net), device))
    return net


def _in_training_mode(net) -> bool:
    """Whether the net's BatchNorm layers use batch statistics (True for a net without any)."""
    norms = [m for _, m in nnx.iter_graph(net) if isinstance(m, nnx.BatchNorm)]
    return not norms or not norms[0].use_running_average


def use_precision(precision: str, device: jax.Device) -> str:
    """Make ``precision`` (``dcgan.precision``) the arithmetic of the nets built after this
    call on ``device``; returns the resolved name (``auto`` becomes fp32 or tf32).

    fp32 and tf32 are JAX's default matmul precision (``highest``, or
    ``tensorfloat32``: XLA uses TF32 on a GPU unless told otherwise; on the CPU
    XLA computes in float32 and nothing is set). bf16 is the Flax convolutions'
    computation dtype (``dtype=bfloat16``, float32 weights; BatchNorm and the loss
    in float32). fp16 is refused: it needs loss scaling, which neither JAX nor
    optax provides (DeepMind's separate ``jmp`` does).
    """
    on_gpu = device.platform == "gpu"
    precision = resolve_precision(precision, on_gpu)
    if precision == "fp16":
        raise unsupported("jax", precision, f"on {'a GPU' if on_gpu else 'the CPU'}",
                          "fp16 needs loss scaling, which neither JAX nor optax provides")
    if on_gpu:
        jax.config.update("jax_default_matmul_precision",
                          "tensorfloat32" if precision == "tf32" else "highest")
    set_compute_dtype(jnp.bfloat16 if precision == "bf16" else None)
    return precision


def check_precision(*nets: nnx.Module) -> None:
    """Raise ValueError unless every net's convolutions compute in the dtype
    :func:`use_precision` chose (Flax fixes it when a layer is made, so that call must
    come before net_G and net_D)."""
    for net in nets:
        convs = [m for _, m in nnx.iter_graph(net) if isinstance(m, (nnx.Conv, nnx.ConvTranspose))]
        if convs and convs[0].dtype != compute_dtype():
            raise ValueError(f"a net computes in {convs[0].dtype}, the run in "
                             f"{compute_dtype()}: call use_precision before net_G and net_D")


def forward(net, X: jax.Array, training: bool = False) -> jax.Array:
    """``net(X)`` with BatchNorm on batch statistics (``training=True``, which also updates
    the running statistics) or on the running statistics; the net's mode is restored."""
    if not isinstance(net, nnx.Module):  # the final tanh is a plain function
        return net(X)
    was_training = _in_training_mode(net)
    net.train() if training else net.eval()
    try:
        return net(X).astype(jnp.float32)
    finally:
        net.train() if was_training else net.eval()


def _canonical_variables(net: nnx.Sequential) -> dict[str, nnx.Variable]:
    """The net's variables under their canonical names (kernels still in Flax's layout)."""
    variables: dict[str, nnx.Variable] = {}
    for i, layer in enumerate(net.layers):
        if isinstance(layer, (G_block, D_block)):
            conv_name = "conv2d_trans" if isinstance(layer, G_block) else "conv2d"
            variables[f"{i}.{conv_name}.weight"] = getattr(layer, conv_name).kernel
            bn = layer.batch_norm
            variables.update({f"{i}.batch_norm.gamma": bn.scale, f"{i}.batch_norm.beta": bn.bias,
                              f"{i}.batch_norm.running_mean": bn.mean,
                              f"{i}.batch_norm.running_var": bn.var})
        elif isinstance(layer, nnx.ConvTranspose):
            variables[f"{i}.conv2d_trans.weight"] = layer.kernel
        elif isinstance(layer, nnx.Conv):
            variables[f"{i}.conv2d.weight"] = layer.kernel
    return variables


def _is_kernel(name: str) -> bool:
    return name.endswith(".weight")


def _canonical_shape(name: str, shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(shape[i] for i in _FLAX_TO_CANONICAL) if _is_kernel(name) else tuple(shape)


def to_canonical(net: nnx.Sequential) -> dict[str, np.ndarray]:
    """The net's weights as ``{canonical name: numpy array}``, kernels transposed to NCHW."""
    arrays = {}
    for name, variable in _canonical_variables(net).items():
        value = np.asarray(variable.value)
        arrays[name] = value.transpose(_FLAX_TO_CANONICAL).copy() if _is_kernel(name) \
            else value.copy()
    return arrays


def from_canonical(net: nnx.Sequential, arrays: Mapping[str, np.ndarray]) -> None:
    """Load canonical weights into ``net``; every name and shape is checked before anything
    is assigned, so a mismatch leaves the net untouched. Each array keeps the device of
    the variable it replaces."""
    variables = _canonical_variables(net)
    check_arrays({name: _canonical_shape(name, v.value.shape) for name, v in variables.items()},
                 arrays, "the weights for this net")
    for name, variable in variables.items():
        value = np.asarray(arrays[name], dtype=np.float32)
        value = value.transpose(_CANONICAL_TO_FLAX) if _is_kernel(name) else value
        variable.value = jax.device_put(value, next(iter(variable.value.devices())))
