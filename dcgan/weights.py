"""The canonical, framework-neutral weights of net_G and net_D.

One layout for all backends, the NCHW convention of PyTorch and Gluon:

* convolution weight ``(out, in, kh, kw)``; transposed convolution ``(in, out, kh, kw)``;
* BatchNorm ``gamma``, ``beta``, ``running_mean``, ``running_var``, each ``(channels,)``.

Names follow the chapter's ``nn.Sequential``: the layer index, the layer's
attribute name in the chapter's block, the parameter. For the generator::

    0.conv2d_trans.weight  0.batch_norm.gamma  0.batch_norm.beta
    0.batch_norm.running_mean  0.batch_norm.running_var
    ... 1. 2. 3. ...
    4.conv2d_trans.weight

and for the discriminator the same with ``conv2d``. A weights object is
``{"net_G": {name: array}, "net_D": {name: array}}``; on disk it is one
safetensors file with keys ``net_G/<name>`` and ``net_D/<name>``. Each
backend's ``nets`` module converts with ``to_canonical`` / ``from_canonical``.
"""

from __future__ import annotations

import os
import zlib
from pathlib import Path
from typing import Mapping

import numpy as np

from dcgan.config import BN_INITS
from dcgan.files import atomic_path
from dcgan.shapes import Layer, discriminator_layers, generator_layers

NETS = ("net_G", "net_D")
BN_PARAMETERS = ("gamma", "beta", "running_mean", "running_var")
LEARNED_BN_PARAMETERS = ("gamma", "beta")

Arrays = Mapping[str, np.ndarray]
Weights = Mapping[str, Arrays]


class WeightsError(ValueError):
    """Weights that do not fit a net; the message lists every mismatch."""


def _layer_shapes(layers: list[Layer], conv_name: str) -> dict[str, tuple[int, ...]]:
    shapes: dict[str, tuple[int, ...]] = {}
    for i, layer in enumerate(layers):
        if layer.transposed:
            shapes[f"{i}.{conv_name}.weight"] = (layer.in_channels, layer.out_channels,
                                                 layer.kernel_size, layer.kernel_size)
        else:
            shapes[f"{i}.{conv_name}.weight"] = (layer.out_channels, layer.in_channels,
                                                 layer.kernel_size, layer.kernel_size)
        if layer.block:
            for p in BN_PARAMETERS:
                shapes[f"{i}.batch_norm.{p}"] = (layer.out_channels,)
    return shapes


def canonical_shapes(latent_dim: int = 100, n_G: int = 64,
                     n_D: int = 64) -> dict[str, dict[str, tuple[int, ...]]]:
    """Every canonical name of both nets with its shape."""
    return {"net_G": _layer_shapes(generator_layers(latent_dim, n_G), "conv2d_trans"),
            "net_D": _layer_shapes(discriminator_layers(n_D), "conv2d")}


def _draw(net: str, name: str, shape: tuple[int, ...], std: float, seed: int,
          bn_init: str = "normal") -> np.ndarray:
    """One parameter's initial value; depends only on (seed, net, name), never on order."""
    parameter = name.rsplit(".", 1)[-1]
    if parameter == "running_mean" or (parameter == "beta" and bn_init == "one"):
        return np.zeros(shape, np.float32)
    if parameter == "running_var" or (parameter == "gamma" and bn_init == "one"):
        return np.ones(shape, np.float32)
    rng = np.random.default_rng([seed, zlib.crc32(f"{net}/{name}".encode())])
    return (rng.standard_normal(shape) * std).astype(np.float32)


def _check_bn_init(bn_init: str) -> None:
    if bn_init not in BN_INITS:
        raise ValueError(f"bn_init must be one of {', '.join(BN_INITS)}, got {bn_init!r}")


def init_like(net: str, arrays: Arrays, std: float = 0.02, seed: int = 0,
              bn_init: str = "normal") -> dict[str, np.ndarray]:
    """Initial weights with the names and shapes of ``arrays`` (a net's canonical weights).

    Every learned parameter is drawn from N(0, std), BatchNorm scale and shift
    included as the chapter's PyTorch and TensorFlow tabs do, or set to 1 and 0
    with ``bn_init="one"`` (:data:`BN_INITS`); running statistics start at
    mean 0 and variance 1.
    """
    if net not in NETS:
        raise ValueError(f"net must be one of {NETS}, got {net!r}")
    _check_bn_init(bn_init)
    return {name: _draw(net, name, np.shape(a), std, seed, bn_init)
            for name, a in arrays.items()}


def init_weights(seed: int, latent_dim: int = 100, n_G: int = 64, n_D: int = 64,
                 std: float = 0.02, bn_init: str = "normal") -> dict[str, dict[str, np.ndarray]]:
    """The chapter's N(0, std) initial weights of both nets (BatchNorm's as ``bn_init``
    says), drawn with numpy from ``seed``, so that every backend can start from the same
    numbers."""
    _check_bn_init(bn_init)
    shapes = canonical_shapes(latent_dim, n_G, n_D)
    return {net: {name: _draw(net, name, shape, std, seed, bn_init)
                  for name, shape in spec.items()}
            for net, spec in shapes.items()}


def check_arrays(expected: Mapping[str, tuple[int, ...]], given: Arrays, what: str) -> None:
    """Refuse ``given`` unless it has exactly the ``expected`` names and shapes.

    The error lists every missing name, every extra name and every wrong
    shape at once, so a user can see the whole problem.
    """
    problems = [f"missing {name} {tuple(shape)}" for name, shape in expected.items()
                if name not in given]
    problems += [f"unexpected {name}" for name in given if name not in expected]
    problems += [f"{name}: shape {tuple(np.shape(given[name]))}, expected {tuple(shape)}"
                 for name, shape in expected.items()
                 if name in given and tuple(np.shape(given[name])) != tuple(shape)]
    if problems:
        raise WeightsError(f"{what} does not fit: " + "; ".join(problems))


def save_weights(path: str | os.PathLike, weights: Weights) -> Path:
    """Write ``{"net_G": ..., "net_D": ...}`` (either may be absent) as one safetensors file,
    atomically."""
    from safetensors.numpy import save

    unknown = sorted(set(weights) - set(NETS))
    if unknown:
        raise WeightsError(f"weights hold unknown nets {unknown}; expected {NETS}")
    flat = {f"{net}/{name}": np.ascontiguousarray(a, dtype=np.float32)
            for net, arrays in weights.items() for name, a in arrays.items()}
    # One metadata entry only: safetensors writes metadata from a hash map, so
    # several entries would come out in varying order and the bytes would differ.
    data = save(flat, metadata={"format": "dcgan-canonical-nchw"})
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def load_weights(path: str | os.PathLike) -> dict[str, dict[str, np.ndarray]]:
    """Read a file written by :func:`save_weights`; anything else is a clear error."""
    from safetensors import SafetensorError
    from safetensors.numpy import load

    path = Path(path)
    try:
        flat = load(path.read_bytes())
    except FileNotFoundError:
        raise WeightsError(f"weights file {path} does not exist")
    except (SafetensorError, ValueError, OSError) as err:
        raise WeightsError(f"{path} is not a dcgan weights file (safetensors): {err}") from err
    weights: dict[str, dict[str, np.ndarray]] = {}
    for key, array in flat.items():
        net, _, name = key.partition("/")
        if net not in NETS or not name:
            raise WeightsError(f"{path} holds {key!r}, which is not a dcgan weight name "
                               f"(net_G/... or net_D/...)")
        weights.setdefault(net, {})[name] = array
    return weights


def check_weights_file(path: str | os.PathLike, latent_dim: int = 100, n_G: int = 64,
                       n_D: int = 64) -> None:
    """Refuse a canonical weights file that is unreadable or does not fit the chapter's nets
    of these sizes, before a run starts; the error lists every mismatch."""
    weights = load_weights(path)
    for net, expected in canonical_shapes(latent_dim, n_G, n_D).items():
        check_arrays(expected, weights.get(net, {}), f"{path} ({net})")


def initialize_nets(net_D, net_G, to_canonical, from_canonical, std: float = 0.02,
                    seed: int = 0, init_from: str | os.PathLike | None = None,
                    bn_init: str = "normal") -> None:
    """Give both nets their starting weights: the chapter's N(0, std) drawn with numpy from
    ``seed`` (identical in every backend; BatchNorm's as ``bn_init`` says), or the
    canonical file ``init_from``.

    Both nets are checked before either is changed, so a file that fits one
    net but not the other loads nothing.
    """
    nets = {"net_D": net_D, "net_G": net_G}
    current = {name: to_canonical(net) for name, net in nets.items()}
    if init_from is None:
        weights = {name: init_like(name, arrays, std, seed, bn_init)
                   for name, arrays in current.items()}
    else:
        weights = load_weights(init_from)
        for name, arrays in current.items():
            check_arrays({k: np.shape(a) for k, a in arrays.items()}, weights.get(name, {}),
                         f"{init_from} ({name})")
    for name, net in nets.items():
        from_canonical(net, weights[name])
