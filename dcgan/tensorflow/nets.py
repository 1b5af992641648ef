"""The chapter's generator and discriminator, in Keras 3 (NHWC).

Sections "The Generator" (``net_G``) and "Discriminator" (``net_D``) of the chapter.

Shapes in the comments are for one example, (height, width, channels),
with the chapter's n_G = n_D = 64; ``dcgan.shapes`` derives them. Both nets
start from ``keras.Input`` so that they are built (their weights exist) as
soon as they are made, like the other backends' nets.
"""

from __future__ import annotations

from typing import Mapping

import keras
import numpy as np
import tensorflow as tf

from dcgan.precision import resolve_precision
from dcgan.tensorflow.blocks import D_block, G_block
from dcgan.weights import check_arrays

_POLICIES = {"fp32": "float32", "tf32": "float32", "bf16": "mixed_bfloat16",
             "fp16": "mixed_float16"}

# Keras kernels are (kh, kw, in, out) for Conv2D and (kh, kw, out, in) for
# Conv2DTranspose; the canonical layouts are (out, in, kh, kw) and
# (in, out, kh, kw). Reversing the channel axes and moving them first is
# the same permutation for both.
_KERAS_TO_CANONICAL = (3, 2, 0, 1)
_CANONICAL_TO_KERAS = (2, 3, 1, 0)


def net_G(latent_dim: int = 100, n_G: int = 64) -> keras.Sequential:
    """The generator: noise (N, 1, 1, latent_dim) to images (N, 64, 64, 3) in (-1, 1)."""
    return keras.Sequential([
        keras.Input(shape=(1, 1, latent_dim)),
        G_block(in_channels=latent_dim, out_channels=n_G * 8,
                strides=1, padding=0),                        # Output: (4, 4, 64 * 8)
        G_block(in_channels=n_G * 8, out_channels=n_G * 4),  # Output: (8, 8, 64 * 4)
        G_block(in_channels=n_G * 4, out_channels=n_G * 2),  # Output: (16, 16, 64 * 2)
        G_block(in_channels=n_G * 2, out_channels=n_G),      # Output: (32, 32, 64)
        keras.layers.Conv2DTranspose(3, kernel_size=4, strides=2, padding="same",
                                     use_bias=False),         # Output: (64, 64, 3)
        keras.layers.Activation("tanh")])


def net_D(n_D: int = 64, alpha: float = 0.2) -> keras.Sequential:
    """The discriminator: images (N, 64, 64, 3) to one logit each, (N, 1, 1, 1)."""
    return keras.Sequential([
        keras.Input(shape=(64, 64, 3)),
        D_block(n_D, alpha=alpha),                                         # Output: (32, 32, 64)
        D_block(in_channels=n_D, out_channels=n_D * 2, alpha=alpha),      # Output: (16, 16, 64 * 2)
        D_block(in_channels=n_D * 2, out_channels=n_D * 4, alpha=alpha),  # Output: (8, 8, 64 * 4)
        D_block(in_channels=n_D * 4, out_channels=n_D * 8, alpha=alpha),  # Output: (4, 4, 64 * 8)
        keras.layers.Conv2D(1, kernel_size=4, use_bias=False)])           # Output: (1, 1, 1)


def layers(net: keras.Sequential) -> list[keras.layers.Layer]:
    """The net's layers in the chapter's order (the final tanh of net_G is its own layer)."""
    return list(net.layers)


def to_device(net: keras.Layer, device: str) -> keras.Layer:
    """The net itself: Keras keeps a variable where it was created, and TensorFlow copies
    it to the device of the ops that read it (those run under ``tf.device(device)`` or on
    the default device, a GPU when there is one), so nothing has to move."""
    return net


def use_precision(precision: str, device: str) -> str:
    """Make ``precision`` (``dcgan.precision``) the arithmetic of the nets built after this
    call on ``device``; returns the resolved name (``auto`` becomes fp32 or tf32).

    Keras's global dtype policy: ``float32`` for fp32 and tf32 (TensorFlow's
    TF32 switch on only for tf32: TensorFlow turns it on by default on a GPU),
    ``mixed_bfloat16`` and ``mixed_float16`` for bf16 and fp16, whose layers keep
    float32 variables and compute in 16 bits (Keras' BatchNormalization computes
    its statistics in float32 either way).
    """
    precision = resolve_precision(precision, "GPU" in device.upper())
    tf.config.experimental.enable_tensor_float_32_execution(precision == "tf32")
    keras.mixed_precision.set_global_policy(_POLICIES[precision])
    return precision


def check_precision(*nets: keras.Layer) -> None:
    """Raise ValueError unless every net was built under the current global policy (Keras
    fixes a layer's policy when it is made, so :func:`use_precision` must come first)."""
    policy = keras.mixed_precision.global_policy().name
    for net in nets:
        if net.dtype_policy.name != policy:
            raise ValueError(f"the net {net.name} was built under the dtype policy "
                             f"{net.dtype_policy.name!r}, the run's is {policy!r}: call "
                             "use_precision before net_G and net_D")


def forward(net: keras.Layer, X, training: bool = False):
    """``net(X)`` with BatchNorm on batch statistics (``training=True``, which also updates
    the running statistics) or on the running statistics; float32 whatever the policy."""
    return keras.ops.cast(net(X, training=training), "float32")


def synchronize_batch_norm(net: keras.Layer) -> keras.Layer:
    """Make every BatchNorm of ``net`` use the global batch of a data-parallel run
    (Keras' ``synchronized=True``: under a ``tf.distribute`` strategy the batch statistics
    are all-reduced over the replicas). The variables do not change. Returns ``net``."""
    for layer in net._flatten_layers():
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.synchronized = True
    return net


def _canonical_variables(net: keras.Sequential) -> dict[str, keras.Variable]:
    """The net's variables under their canonical names (kernels still in Keras's layout)."""
    variables: dict[str, keras.Variable] = {}
    for i, layer in enumerate(net.layers):
        if isinstance(layer, (G_block, D_block)):
            conv_name = "conv2d_trans" if isinstance(layer, G_block) else "conv2d"
            variables[f"{i}.{conv_name}.weight"] = getattr(layer, conv_name).kernel
            bn = layer.batch_norm
            variables.update({f"{i}.batch_norm.gamma": bn.gamma,
                              f"{i}.batch_norm.beta": bn.beta,
                              f"{i}.batch_norm.running_mean": bn.moving_mean,
                              f"{i}.batch_norm.running_var": bn.moving_variance})
        elif isinstance(layer, keras.layers.Conv2DTranspose):
            variables[f"{i}.conv2d_trans.weight"] = layer.kernel
        elif isinstance(layer, keras.layers.Conv2D):
            variables[f"{i}.conv2d.weight"] = layer.kernel
    return variables


def _is_kernel(name: str) -> bool:
    return name.endswith(".weight")


def _canonical_shape(name: str, shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(shape[i] for i in _KERAS_TO_CANONICAL) if _is_kernel(name) else tuple(shape)


def to_canonical(net: keras.Sequential) -> dict[str, np.ndarray]:
    """The net's weights as ``{canonical name: numpy array}``, kernels transposed to NCHW."""
    arrays = {}
    for name, variable in _canonical_variables(net).items():
        value = keras.ops.convert_to_numpy(variable)
        arrays[name] = value.transpose(_KERAS_TO_CANONICAL).copy() if _is_kernel(name) else value
    return arrays


def from_canonical(net: keras.Sequential, arrays: Mapping[str, np.ndarray]) -> None:
    """Load canonical weights into ``net``; every name and shape is checked before anything
    is assigned, so a mismatch leaves the net untouched."""
    variables = _canonical_variables(net)
    check_arrays({name: _canonical_shape(name, v.shape) for name, v in variables.items()},
                 arrays, "the weights for this net")
    for name, variable in variables.items():
        value = np.asarray(arrays[name], dtype=np.float32)
        variable.assign(value.transpose(_CANONICAL_TO_KERAS) if _is_kernel(name) else value)
