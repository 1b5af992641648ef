"""The chapter's DCGAN in JAX with Flax NNX (NHWC, like TensorFlow); see ``dcgan.backend``.

Importing this package imports JAX, Flax and optax, never PyTorch, TensorFlow
or MXNet. The chapter has no JAX tab: this backend is written the way the
JAX ecosystem writes such a model today (Flax NNX modules, optax's Adam, a
``jax.jit``-compiled step), with the other tabs' names and numbers. The
training code is in ``dcgan.jax.train``. Before JAX is imported it points
JAX's persistent compilation cache at the dataset cache folder
(``JAX_COMPILATION_CACHE_DIR``, unless set, and not with
``DCGAN_FRAMEWORK_DEFAULTS=1``).
"""

# ruff: noqa: E402

from dcgan.datasets.download import default_data_root
from dcgan.startup import apply_environment_defaults

# XLA compiles the training step for 15 to 30 seconds on two CPU cores, and
# the chapter's step op by op (--eager) as long; JAX's persistent compilation
# cache keeps every compiled function for the next run (seconds instead).
apply_environment_defaults({
    "JAX_COMPILATION_CACHE_DIR": str(default_data_root() / "jax-compilation-cache"),
    "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0"})

NAME = "jax"
LAYOUT = "NHWC"

from dcgan.jax.blocks import D_block, G_block
from dcgan.jax.data import as_numpy, as_tensor, load_data
from dcgan.jax.nets import forward, from_canonical, layers, net_D, net_G, to_canonical, to_device

__all__ = ["NAME", "LAYOUT", "G_block", "D_block", "net_G", "net_D", "forward", "layers",
           "to_canonical", "from_canonical", "to_device", "load_data", "as_tensor", "as_numpy"]
