"""The chapter's DCGAN in TensorFlow with Keras 3 (NHWC); see ``dcgan.backend``.

Importing this package imports TensorFlow and Keras, never PyTorch or MXNet.
Before TensorFlow is imported it sets three environment variables, only where
the user has not set them: ``TF_CPP_MIN_LOG_LEVEL=2`` (TensorFlow's runtime
notices; not with ``--verbose``), ``TF_ENABLE_ONEDNN_OPTS=1`` (oneDNN kernels,
off by default on some CPUs; not with ``DCGAN_FRAMEWORK_DEFAULTS=1``) and
``KERAS_BACKEND=tensorflow``. A ``KERAS_BACKEND`` naming another backend is an
error, since this package's code is TensorFlow's. TensorFlow's native start-up
notices, which that variable does not reach, are filtered while it loads
(``dcgan.startup``).
"""

# ruff: noqa: E402

import importlib
import importlib.util
import os

from dcgan.startup import (
    apply_environment_defaults,
    modules_hidden,
    quiet_native_startup,
    verbose_requested,
)


def _load_triton_first() -> None:
    """CUDA builds of PyTorch install triton, whose native library crashes the process
    (a segmentation fault) when it is loaded after TensorFlow's: both bundle LLVM.
    Loading it first, where it is installed, lets PyTorch and TensorFlow share a
    process (the parity tests, the side-by-side notebook). It does not import torch."""
    if importlib.util.find_spec("triton") is None:
        return
    try:
        importlib.import_module("triton._C.libtriton")
    except ImportError:
        pass


_load_triton_first()
if not verbose_requested():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# TensorFlow turns oneDNN's CPU kernels on by itself only where the CPU has
# AVX-512 VNNI/BF16 or AMX; elsewhere (older AMD EPYCs among them) they make
# the chapter's step more than twice as fast (README, Speed).
apply_environment_defaults({"TF_ENABLE_ONEDNN_OPTS": "1"})
if os.environ.setdefault("KERAS_BACKEND", "tensorflow") != "tensorflow":
    raise ImportError(f"dcgan.tensorflow needs Keras's TensorFlow backend, but KERAS_BACKEND="
                      f"{os.environ['KERAS_BACKEND']!r}; unset it or set it to 'tensorflow'")

NAME = "tensorflow"
LAYOUT = "NHWC"

# What TensorFlow's native code prints while it loads and looks for a GPU,
# whatever TF_CPP_MIN_LOG_LEVEL says; any other line is passed on.
_STARTUP_NOISE = (
    r"^WARNING: All log messages before absl::InitializeLog\(\) is called",
    r"^[IW]\d{4} .*\] oneDNN custom operations are on",
    r"^[IW]\d{4} .*\] Could not find cuda drivers on your machine",
    r"^E\d{4} .*\] failed call to cuInit: .*(UNKNOWN ERROR \(303\)|CUDA_ERROR_NO_DEVICE)",
    r"^[IW]\d{4} .*cpu_feature_guard\.cc.*\] This TensorFlow binary is optimized",
    r"^To enable the following instructions: .* rebuild TensorFlow",
)

# TFLite's helpers import JAX when it is installed (for converting JAX models).
with quiet_native_startup(_STARTUP_NOISE), modules_hidden(["jax"]):
    import tensorflow as _tf

    _tf.config.list_physical_devices("GPU")  # looks for a GPU now, inside the filter

from dcgan.tensorflow.blocks import D_block, G_block
from dcgan.tensorflow.data import as_numpy, as_tensor, load_data
from dcgan.tensorflow.nets import (
    forward,
    from_canonical,
    layers,
    net_D,
    net_G,
    to_canonical,
    to_device,
)

__all__ = ["NAME", "LAYOUT", "G_block", "D_block", "net_G", "net_D", "forward", "layers",
           "to_canonical", "from_canonical", "to_device", "load_data", "as_tensor", "as_numpy"]
