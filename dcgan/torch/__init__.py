"""The chapter's DCGAN in PyTorch (NCHW); see ``dcgan.backend`` for the contract.

Importing this package imports torch and torchvision, never TensorFlow or
MXNet. The chapter's training code is in ``dcgan.torch.train``.
"""

# ruff: noqa: E402

NAME = "torch"
LAYOUT = "NCHW"

from dcgan.torch.blocks import D_block, G_block
from dcgan.torch.data import as_numpy, as_tensor, load_data
from dcgan.torch.nets import forward, from_canonical, layers, net_D, net_G, to_canonical, to_device

__all__ = ["NAME", "LAYOUT", "G_block", "D_block", "net_G", "net_D", "forward", "layers",
           "to_canonical", "from_canonical", "to_device", "load_data", "as_tensor", "as_numpy"]
