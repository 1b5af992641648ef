"""The chapter's DCGAN in MXNet Gluon (NCHW), with MXNet's numpy interface; see
``dcgan.backend``.

Importing this package imports MXNet, never PyTorch or TensorFlow. Before
MXNet is imported it sets ``OMP_NUM_THREADS`` to the number of cores, unless
the user has set it or set ``DCGAN_FRAMEWORK_DEFAULTS=1``.
"""

# ruff: noqa: E402
import os

import numpy

from dcgan.startup import apply_environment_defaults

# MXNet's CPU operators run on one OpenMP thread unless told otherwise; use
# every core, unless the user has chosen a number.
apply_environment_defaults({"OMP_NUM_THREADS": str(os.cpu_count() or 1)})

# MXNet 1.9.1, the last release, uses the alias `numpy.bool`, which numpy
# removed in 1.24; without it `import mxnet` fails with AttributeError. This
# is the one place the project restores it, before mxnet is first imported.
if "bool" not in vars(numpy):  # hasattr() would trigger numpy's FutureWarning
    numpy.bool = bool

from mxnet import npx

# The chapter's MXNet code uses MXNet's numpy interface (mxnet.np).
npx.set_np()

NAME = "mxnet"
LAYOUT = "NCHW"

from dcgan.mxnet.blocks import D_block, G_block
from dcgan.mxnet.data import as_numpy, as_tensor, load_data
from dcgan.mxnet.nets import forward, from_canonical, layers, net_D, net_G, to_canonical, to_device

__all__ = ["NAME", "LAYOUT", "G_block", "D_block", "net_G", "net_D", "forward", "layers",
           "to_canonical", "from_canonical", "to_device", "load_data", "as_tensor", "as_numpy"]
