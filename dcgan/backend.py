"""The contract every backend package (``dcgan.torch``, ``dcgan.tensorflow``,
``dcgan.mxnet``, ``dcgan.jax``) fulfils, written once.

A backend is a package with ``NAME`` and ``LAYOUT`` and four modules that
mirror each other file for file, each defining the names of :data:`CONTRACT`:

========== ==============================================================
module     names
========== ==============================================================
blocks     ``G_block``, ``D_block``
nets       ``net_G``, ``net_D``, ``forward``, ``layers``,
           ``to_canonical``, ``from_canonical``, ``to_device``
data       ``load_data``, ``as_tensor``, ``as_numpy``
train      ``update_D``, ``update_G``, ``train``, ``main`` and the helpers
           ``make_loss``, ``make_trainers``, ``make_step``, ``set_seed``,
           ``resolve_device``, ``generate``, ``save_weights``,
           ``trainer_state``, ``load_trainer_state``, ``start_workers``
========== ==============================================================

:func:`load` gathers them into one object that satisfies the
:class:`Backend` Protocol. The tests are written against that Protocol and
parametrized over the backends whose framework is installed; :func:`load`
imports exactly one framework, so loading ``tensorflow`` never imports torch
or mxnet.
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Iterable, Literal, Protocol, runtime_checkable

import numpy as np

from dcgan.config import Config
from dcgan.shapes import Layout

BackendName = Literal["torch", "tensorflow", "mxnet", "jax"]
BACKENDS: tuple[BackendName, ...] = ("torch", "tensorflow", "mxnet", "jax")

# The distribution a user installs for each backend (the pyproject extra of
# the same name), and the module whose presence makes the backend usable.
FRAMEWORK_MODULE: dict[str, str] = {"torch": "torch", "tensorflow": "tensorflow",
                                    "mxnet": "mxnet", "jax": "flax"}


@runtime_checkable
class Backend(Protocol):
    """What ``dcgan.<backend>`` provides. Tensors are the framework's own."""

    NAME: str
    """The backend's name, as in ``python -m dcgan.<NAME>.train``."""
    LAYOUT: Layout
    """Image layout: ``"NCHW"`` (PyTorch, MXNet) or ``"NHWC"`` (TensorFlow, JAX)."""

    # blocks
    G_block: type
    """``G_block(out_channels, in_channels=3, kernel_size=4, strides=2, padding=1)``:
    transposed convolution, BatchNorm, ReLU. Doubles height and width by default."""
    D_block: type
    """``D_block(out_channels, in_channels=3, kernel_size=4, strides=2, padding=1, alpha=0.2)``:
    convolution, BatchNorm, leaky ReLU. Halves height and width by default."""

    # nets
    def net_G(self, latent_dim: int = 100, n_G: int = 64) -> Any:
        """The chapter's generator, built: noise (N, latent_dim, 1, 1) to images (N, 3, 64, 64)."""

    def net_D(self, n_D: int = 64, alpha: float = 0.2) -> Any:
        """The chapter's discriminator, built: images (N, 3, 64, 64) to logits (N, 1, 1, 1)."""

    def forward(self, net: Any, X: Any, training: bool = False) -> Any:
        """``net(X)`` with BatchNorm on batch statistics (training, updating the running
        statistics) or on running statistics (inference); no gradient recorded."""

    def layers(self, net: Any) -> list[Any]:
        """The net's layers in order, each callable on the previous one's output."""

    def to_canonical(self, net: Any) -> dict[str, np.ndarray]:
        """The net's weights and BatchNorm statistics in the canonical layout
        (``dcgan.weights``)."""

    def from_canonical(self, net: Any, arrays: dict[str, np.ndarray]) -> None:
        """Load canonical weights into ``net``, refusing (untouched) any mismatch."""

    def to_device(self, net: Any, device: Any) -> Any:
        """``net`` with its weights on ``device`` (from ``resolve_device``), ready for inputs
        made there by ``as_tensor(array, device)``; returns the net."""

    def use_precision(self, precision: str, device: Any) -> str:
        """Make ``precision`` (``dcgan.precision``: auto, fp32, tf32, bf16, fp16) the
        process's arithmetic on ``device``, before the nets are built; returns the resolved
        name. A precision the backend cannot run there raises ValueError naming it."""

    # data
    def load_data(self, folder: Path, batch_size: int, num_workers: int = 0,
                  shuffle: bool = True, seed: int = 0, in_memory: bool = False,
                  device: Any = None, workers: Any = None) -> Iterable[tuple[Any, Any]]:
        """The framework's own pipeline over an image folder: batches ``(X, labels)`` with
        X of shape (N, 3, 64, 64) in the backend's layout, scaled to [-1, 1], in the seeded
        order of ``dcgan.randomness``. ``in_memory``: the images decoded once and held as
        uint8 on ``device``, each batch made there (``dcgan.datasets.memory``), the same
        numbers (JAX has only this path). ``workers`` (``dcgan.distributed.Workers``): this
        worker's part of every global batch of ``batch_size``."""

    def as_tensor(self, array: np.ndarray, device: Any = None) -> Any:
        """A float32 numpy array (already in the backend's layout) as a framework tensor."""

    def as_numpy(self, tensor: Any) -> np.ndarray:
        """A framework tensor as a numpy array, in the backend's layout."""

    # train
    def make_loss(self) -> Any:
        """The chapter's loss: binary cross-entropy on logits, summed over the batch."""

    def make_trainers(self, net_D: Any, net_G: Any, lr: float, beta1: float = 0.5,
                      beta2: float = 0.999, epsilon: float = 1e-8) -> tuple[Any, Any]:
        """Adam for each net, computed as PyTorch computes it: ``(trainer_D, trainer_G)``.

        Keras and Gluon add epsilon to sqrt(v) before the bias correction, PyTorch
        after it: ``m_hat / (sqrt(v_hat) + eps)``. The TensorFlow and MXNet backends
        subclass their framework's Adam with that one formula (epsilon scaled by
        sqrt(1 - beta2^t)), once in graph ops and once in Gluon's update."""

    def update_D(self, X: Any, Z: Any, net_D: Any, net_G: Any, loss: Any,
                 trainer_D: Any) -> float:
        """One discriminator step; returns the batch's loss summed over the batch."""

    def update_G(self, Z: Any, net_D: Any, net_G: Any, loss: Any, trainer_G: Any) -> float:
        """One generator step; returns the batch's loss summed over the batch."""

    def make_step(self, net_D: Any, net_G: Any, loss: Any, trainer_D: Any, trainer_G: Any,
                  latent_dim: int, eager: bool = False, compile: bool = False,
                  workers: Any = None) -> Any:
        """``both_updates(X, Z) -> (loss_D, loss_G)``: ``update_D`` then ``update_G`` on a
        batch (moved to the nets' device), with the backend's speed settings
        (compilation, memory layout), or as the chapter writes them with ``eager=True``.
        The chapter's step returns Python floats; the default one may return 0-d arrays
        the device is still computing, which ``float()`` reads (``dcgan.loop`` reads
        them one step late, so the host queues the next step first).
        ``compile=True`` compiles further against launch overhead where the framework
        has a further step (PyTorch: ``torch.compile``, CUDA graphs on a GPU;
        TensorFlow: XLA); MXNet and JAX already compile the whole step. With several
        ``workers`` (:meth:`start_workers`), ``X`` and ``Z`` are this worker's part of the
        global batch, and the step is data-parallel: BatchNorm on the global batch, the
        workers' gradients and losses summed."""

    def train(self, net_D: Any, net_G: Any, data_iter: Iterable, num_epochs: int, lr: float,
              latent_dim: int, device: Any = None, *, config: Config | None = None,
              run: Any = None, resume: Any = None, workers: Any = None) -> list[Any]:
        """The chapter's training loop; returns the metrics of the epochs it ran.

        Initialises both nets (the shared N(0, 0.02) draw of ``dcgan.weights``,
        or ``config.init_from``), makes the optimizers, and alternates
        ``update_D`` and ``update_G`` on every batch, with the noise of
        ``dcgan.randomness``. ``run`` (a ``dcgan.runs.RunFolder`` or a
        ``dcgan.plotting.LivePlot``) receives samples, metrics, quality and a
        checkpoint after each epoch; ``resume`` (a ``dcgan.checkpoints.Checkpoint``
        of this backend) continues a run where it stopped. The chapter's final
        line is printed at the end. The body is shared (``dcgan.training``). ``workers``:
        this process is one worker of a data-parallel run (:meth:`start_workers`)."""

    def trainer_state(self, trainer: Any) -> dict[str, np.ndarray]:
        """An optimizer's state (Adam's moments and step counts) as numpy arrays under the
        backend's own keys, for a checkpoint."""

    def load_trainer_state(self, trainer: Any, arrays: dict[str, np.ndarray]) -> None:
        """Load :meth:`trainer_state`'s arrays into an optimizer of the same net."""

    def set_seed(self, seed: int) -> None:
        """Seed the framework's random generators (and numpy/random) for a repeatable run."""

    def start_workers(self, device: str = "auto", timeout_s: float = 300.0) -> Any:
        """Join the workers that the framework's launcher started, or take this process's
        devices (``--distributed``), as a ``dcgan.distributed.Workers``; a collective that
        waits longer than ``timeout_s`` raises ``dcgan.distributed.WorkersLost`` (MXNet's
        processes, whose waits Python cannot interrupt, print its message and exit with
        status 1). Not
        started by a launcher it needs, or by one whose form it does not support yet:
        ValueError saying what to do."""

    def resolve_device(self, choice: str = "auto") -> Any:
        """The device for ``--device auto|cpu|gpu``; asking for a missing GPU is an error."""

    def check_compile(self, device: Any) -> None:
        """Refuse ``--compile`` on ``device`` where the framework cannot compile there, before
        a run writes anything: ValueError saying what to do (PyTorch on a CPU without a
        C++ compiler). A backend that compiles its whole step already accepts it."""

    def generate(self, net_G: Any, Z: Any) -> np.ndarray:
        """Images from noise as numpy in the backend's layout, in [-1, 1].

        BatchNorm uses the running statistics (inference mode), as the TensorFlow
        and MXNet tabs draw their samples, so drawing samples does not change the
        model."""

    def save_weights(self, net_D: Any, net_G: Any, folder: Path) -> list[Path]:
        """Save both nets in the framework's own format; returns the files written."""

    def main(self, argv: list[str] | None = None) -> int:
        """``python -m dcgan.<NAME>.train``: the command-line entry point."""


CONTRACT: dict[str, tuple[str, ...]] = {
    "blocks": ("G_block", "D_block"),
    "nets": ("net_G", "net_D", "forward", "layers", "to_canonical", "from_canonical",
             "to_device", "use_precision"),
    "data": ("load_data", "as_tensor", "as_numpy"),
    "train": ("update_D", "update_G", "train", "main", "make_loss", "make_trainers",
              "make_step", "set_seed", "resolve_device", "check_compile", "generate",
              "save_weights",
              "trainer_state", "load_trainer_state", "start_workers"),
}
"""Module -> the public names each backend's module of that name defines."""


def missing_reason(name: str) -> str | None:
    """Why backend ``name`` cannot be used here, or None when its framework is installed."""
    if name not in FRAMEWORK_MODULE:
        raise ValueError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")
    module = FRAMEWORK_MODULE[name]
    if importlib.util.find_spec(module) is None:
        return (f"{module} is not installed; install it with "
                f"pip install -e \".[{name}]\"")
    return None


def available() -> list[str]:
    """The backends whose framework is installed, in the canonical order."""
    return [name for name in BACKENDS if missing_reason(name) is None]


def load(name: str) -> Backend:
    """The backend ``dcgan.<name>`` as one object with every name of :class:`Backend`.

    The names are gathered from the backend's four modules per
    :data:`CONTRACT` (a package attribute cannot serve: ``dcgan.torch.train``
    is both the module and the chapter's function). Only that one framework
    is imported; a missing framework or a missing name is a clear error.
    """
    reason = missing_reason(name)
    if reason is not None:
        raise ImportError(f"backend {name!r} is unavailable: {reason}")
    package = importlib.import_module(f"dcgan.{name}")
    members: dict[str, Any] = {"NAME": package.NAME, "LAYOUT": package.LAYOUT}
    for module_name, names in CONTRACT.items():
        module = importlib.import_module(f"dcgan.{name}.{module_name}")
        missing = [n for n in names if not hasattr(module, n)]
        if missing:
            raise ImportError(f"dcgan.{name}.{module_name} lacks {missing}, which "
                              f"dcgan.backend.CONTRACT requires")
        members.update({n: getattr(module, n) for n in names})
    return SimpleNamespace(**members)  # type: ignore[return-value]
