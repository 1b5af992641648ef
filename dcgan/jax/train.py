"""Training the chapter's DCGAN with JAX and Flax NNX: ``python -m dcgan.jax.train``.

Section "Training" of the chapter, which has no JAX tab.

``update_D``, ``update_G`` and ``train`` keep the chapter's names and
signatures; the epoch loop, the progress bar and the run folder are shared
with the other backends (``dcgan.training``, ``dcgan.loop``, ``dcgan.runs``,
``dcgan.cli``). What JAX changes, beside the other tabs:

* gradients come from a function of the net (``nnx.value_and_grad``), not
  from a tape or a ``backward()``; the discriminator's loss is a function of
  ``net_D`` alone, so ``net_G``'s fakes need no detaching, only
  ``jax.lax.stop_gradient`` to say so;
* the optimizer (``nnx.Optimizer`` over optax's Adam, whose epsilon sits
  where PyTorch's does) holds its state beside the net, and ``update``
  takes the net and the gradients;
* the two updates run as one ``nnx.jit``-compiled function unless
  ``--eager``, which runs the same Python line by line;
* BatchNorm's mode is the net's (``net.train()``, ``net.eval()``): the nets
  are made in training mode and the updates run them so, updating the
  running statistics in place as PyTorch does.
"""

from __future__ import annotations

import os
import random
import sys
from pathlib import Path
from typing import Callable, Iterable

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx, serialization
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from dcgan import cli
from dcgan.checkpoints import Checkpoint
from dcgan.config import ADAM_EPSILON, Config
from dcgan.distributed import (
    CPU_DEVICES_ENV,
    DEFAULT_TIMEOUT_S,
    Workers,
    cpu_devices,
    eager_on_one_device,
)
from dcgan.files import atomic_path
from dcgan.jax import LAYOUT, NAME
from dcgan.jax.data import as_numpy, as_tensor
from dcgan.jax.nets import (
    check_precision,
    forward,
    from_canonical,
    to_canonical,
    to_device,
    use_precision,
)
from dcgan.loop import EpochMetrics
from dcgan.runs import RunFolder
from dcgan.training import TrainHooks, train_chapter

Loss = Callable[[jax.Array, jax.Array], jax.Array]


def make_loss() -> Loss:
    """Binary cross-entropy on logits, summed over the batch (the chapter's reduction):
    ``loss(Y_hat, Y)``."""

    def loss(Y_hat: jax.Array, Y: jax.Array) -> jax.Array:
        return optax.sigmoid_binary_cross_entropy(Y_hat.astype(jnp.float32), Y).sum()

    return loss


def make_trainers(net_D: nnx.Module, net_G: nnx.Module, lr: float, beta1: float = 0.5,
                  beta2: float = 0.999,
                  epsilon: float = ADAM_EPSILON) -> tuple[nnx.Optimizer, nnx.Optimizer]:
    """Adam for each net's parameters (``nnx.Param``: not BatchNorm's running statistics)
    with the chapter's betas and the shared epsilon."""
    return tuple(nnx.Optimizer(net, optax.adam(lr, b1=beta1, b2=beta2, eps=epsilon),
                               wrt=nnx.Param)
                 for net in (net_D, net_G))  # type: ignore[return-value]


def _flat_state(trainer: nnx.Optimizer) -> list:
    return list(nnx.to_flat_state(nnx.state(trainer)))


def trainer_state(trainer: nnx.Optimizer) -> dict[str, np.ndarray]:
    """The optimizer's state as arrays, keyed by their path (``step``,
    ``opt_state.0.mu.layers.0.conv2d.kernel``, ...)."""
    return {".".join(map(str, path)): np.asarray(variable.value).copy()
            for path, variable in _flat_state(trainer)}


def load_trainer_state(trainer: nnx.Optimizer, arrays: dict[str, np.ndarray]) -> None:
    """Load :func:`trainer_state`'s arrays; a state that does not fit is an error, and the
    optimizer is left untouched."""
    flat = _flat_state(trainer)
    expected = {".".join(map(str, path)): variable.value.shape for path, variable in flat}
    # safetensors stores a scalar (the step count) as shape (1,): compare sizes.
    if set(arrays) != set(expected) or any(np.size(arrays[k]) != np.prod(shape, dtype=int)
                                           for k, shape in expected.items()):
        raise ValueError(f"optimizer state does not fit this net: {len(arrays)} arrays for "
                         f"{len(expected)} optimizer variables, or their names or sizes differ")
    for path, variable in flat:
        old = variable.value
        new = np.reshape(arrays[".".join(map(str, path))], old.shape).astype(old.dtype)
        variable.value = jax.device_put(new, next(iter(old.devices())))
    nnx.update(trainer, nnx.from_flat_state(flat))


def _as_float(loss: jax.Array) -> float | jax.Array:
    """A Python float when running eagerly (the chapter's contract); inside a compiled
    function the traced value itself, which the caller converts after the step."""
    return loss if isinstance(loss, jax.core.Tracer) else float(loss)


def update_D(X: jax.Array, Z: jax.Array, net_D: nnx.Module, net_G: nnx.Module, loss: Loss,
             trainer_D: nnx.Optimizer) -> float:
    """Update the discriminator on real ``X`` and fakes from ``Z``, to maximize
    log D(x) + log(1 - D(G(z))) (minimize the cross-entropy of real as 1, fake as 0);
    returns the summed loss."""
    batch_size = X.shape[0]
    ones = jnp.ones((batch_size,))  # Labels corresponding to real data
    zeros = jnp.zeros((batch_size,))  # Labels corresponding to fake data
    # Do not need to compute gradient for `net_G`: the loss below is a
    # function of `net_D` only, and the fakes are constants to it
    fake_X = jax.lax.stop_gradient(net_G(Z))

    def loss_of(net_D: nnx.Module) -> jax.Array:
        real_Y = net_D(X)
        fake_Y = net_D(fake_X)
        return (loss(real_Y.reshape(ones.shape), ones) +
                loss(fake_Y.reshape(zeros.shape), zeros)) / 2

    loss_D, grads_D = nnx.value_and_grad(loss_of)(net_D)
    trainer_D.update(net_D, grads_D)
    return _as_float(loss_D)


def update_G(Z: jax.Array, net_D: nnx.Module, net_G: nnx.Module, loss: Loss,
             trainer_G: nnx.Optimizer) -> float:
    """Update the generator so that ``net_D`` takes its fakes for real, to maximize
    log D(G(z)) (the chapter's and the paper's non-saturating loss, not
    minimize log(1 - D(G(z)))); returns the summed loss.

    The gradient is taken with respect to ``net_G`` only (the first
    argument); ``net_D`` runs in training mode, and its running statistics
    are updated, as in the other backends."""
    batch_size = Z.shape[0]
    ones = jnp.ones((batch_size,))

    def loss_of(net_G: nnx.Module, net_D: nnx.Module) -> jax.Array:
        # We could reuse `fake_X` from `update_D` to save computation
        fake_X = net_G(Z)
        # Recomputing `fake_Y` is needed since `net_D` is changed
        fake_Y = net_D(fake_X)
        return loss(fake_Y.reshape(ones.shape), ones)

    loss_G, grads_G = nnx.value_and_grad(loss_of)(net_G, net_D)
    trainer_G.update(net_G, grads_G)
    return _as_float(loss_G)


def _both_updates(net_D: nnx.Module, net_G: nnx.Module, trainer_D: nnx.Optimizer,
                  trainer_G: nnx.Optimizer, loss: Loss, X: jax.Array,
                  Z: jax.Array) -> tuple[float | jax.Array, float | jax.Array]:
    return (update_D(X, Z, net_D, net_G, loss, trainer_D),
            update_G(Z, net_D, net_G, loss, trainer_G))


def make_step(net_D: nnx.Module, net_G: nnx.Module, loss: Loss, trainer_D: nnx.Optimizer,
              trainer_G: nnx.Optimizer, latent_dim: int, eager: bool = False,
              compile: bool = False, workers: Workers | None = None
              ) -> Callable[[jax.Array, jax.Array], tuple[float, float]]:
    """``both_updates(X, Z) -> (loss_D, loss_G)``: both updates, compiled as one
    ``nnx.jit`` function (the default; XLA compiles it again for a new batch size, such
    as an epoch's last, smaller batch; the losses are arrays JAX may still be computing,
    read by ``float()`` when needed) or run line by line as in the chapter. ``compile``
    changes nothing: the whole step is one XLA program already. The nets must have been
    built at the run's precision (:func:`dcgan.jax.nets.use_precision`).

    With ``workers`` on several devices (:func:`start_workers`) the same compiled step is
    data-parallel, JAX's way: the nets and optimizers are replicated on a mesh of the
    devices, each batch and its noise are split over them along the batch axis, and XLA
    partitions the step, so that BatchNorm's statistics, the summed losses and the
    gradients are those of the whole batch (it inserts the all-reduces)."""
    check_precision(net_D, net_G)
    devices = workers.devices if workers is not None else 1
    if eager and devices > 1:
        raise eager_on_one_device()
    if eager:
        return lambda X, Z: _both_updates(net_D, net_G, trainer_D, trainer_G, loss, X, Z)
    # Commit every array of the nets and optimizers to the nets' device (or replicate it
    # on the mesh), as the step's outputs will be: a compiled function is keyed by where
    # its inputs live, and a mix of placed and unplaced arrays at the first call compiles
    # it twice.
    device = jax.tree.leaves(nnx.state(net_D, nnx.Param))[0].devices().pop()
    placement, batch_placement = device, None
    if devices > 1:
        mesh = Mesh(np.array(jax.devices(device.platform)[:devices]), ("batch",))
        placement = NamedSharding(mesh, PartitionSpec())
        batch_placement = NamedSharding(mesh, PartitionSpec("batch"))
    for state_owner in (net_D, net_G, trainer_D, trainer_G):
        nnx.update(state_owner, jax.device_put(nnx.state(state_owner), placement))
    compiled = nnx.jit(_both_updates, static_argnums=4)
    # cached_partial keeps the nets' and optimizers' graph between calls, instead of
    # flattening it on every step.
    step_on = nnx.cached_partial(compiled, net_D, net_G, trainer_D, trainer_G, loss)
    if batch_placement is None:
        return step_on
    return lambda X, Z: step_on(jax.device_put(X, batch_placement),
                                jax.device_put(Z, batch_placement))


def set_seed(seed: int) -> None:
    """Seed Python and numpy. JAX has no global generator: every random number of a run
    (initial weights, noise, order) is a numpy draw keyed by the seed (``dcgan.weights``,
    ``dcgan.randomness``), the same in every backend, so training needs no JAX key."""
    random.seed(seed)
    np.random.seed(seed)


def _gpus() -> list[jax.Device]:
    try:
        return jax.devices("gpu")
    except RuntimeError:  # no GPU backend in this jaxlib
        return []


def check_compile(device: jax.Device) -> None:
    """``--compile`` changes nothing here (``jax.jit`` compiles the whole step already):
    nothing to refuse."""


def resolve_device(choice: str = "auto") -> jax.Device:
    """``auto`` (a GPU if JAX sees one), ``cpu`` or ``gpu``/``cuda`` (an error without one)."""
    if choice == "cpu":
        return jax.devices("cpu")[0]
    if choice in ("gpu", "cuda"):
        if not _gpus():
            raise ValueError("--device gpu: JAX sees no GPU here (a CUDA build of jaxlib "
                             "needs pip install \"jax[cuda12]\"); use --device cpu or auto")
        return _gpus()[0]
    if choice == "auto":
        return (_gpus() or jax.devices("cpu"))[0]
    raise ValueError(f"unknown device {choice!r}; choose auto, cpu or gpu")


def generate(net_G: nnx.Module, Z: jax.Array) -> np.ndarray:
    """Images from noise; see ``dcgan.backend.Backend.generate``. The noise goes where the
    net's weights are (replicated on the devices of a data-parallel run)."""
    placement = jax.tree.leaves(nnx.state(net_G, nnx.Param))[0].sharding
    return as_numpy(forward(net_G, jax.device_put(Z, placement), training=False))


def save_weights(net_D: nnx.Module, net_G: nnx.Module, folder: str | Path) -> list[Path]:
    """Save both nets' state (parameters and BatchNorm statistics) with Flax's msgpack
    serialization as ``net_D.msgpack`` and ``net_G.msgpack`` in ``folder``."""
    paths = []
    for name, net in (("net_D", net_D), ("net_G", net_G)):
        path = Path(folder) / f"{name}.msgpack"
        with atomic_path(path) as tmp:
            Path(tmp).write_bytes(serialization.msgpack_serialize(
                jax.device_get(nnx.to_pure_dict(nnx.state(net)))))
        paths.append(path)
    return paths


def start_workers(device: str = "auto", timeout_s: float = DEFAULT_TIMEOUT_S) -> Workers:
    """Data-parallel training over all the devices of the kind ``device`` names, in this
    one process (JAX's single-controller model; :func:`make_step` partitions the step
    over them): every GPU, or the CPU devices that ``DCGAN_CPU_DEVICES`` (or JAX's own
    ``JAX_NUM_CPU_DEVICES``) asks for; the CPU is one device otherwise. ``timeout_s``
    does not apply: no other process is waited for. Processes on several machines
    (``jax.distributed``) are not supported yet."""
    if os.environ.get("JAX_COORDINATOR_ADDRESS"):
        raise ValueError("--distributed: JAX across processes or machines "
                         "(jax.distributed) is not supported yet; train in one process "
                         "over its devices")
    if CPU_DEVICES_ENV in os.environ:
        jax.config.update("jax_num_cpu_devices", cpu_devices())
    kind = resolve_device(device).platform
    return Workers(0, 1, timeout_s, devices=len(jax.devices(kind)))


def train(net_D: nnx.Module, net_G: nnx.Module, data_iter: Iterable, num_epochs: int,
          lr: float, latent_dim: int, device: jax.Device | None = None, *,
          config: Config | None = None, run: RunFolder | None = None,
          resume: Checkpoint | None = None,
          workers: Workers | None = None) -> list[EpochMetrics]:
    """The chapter's ``train``: initialise, then alternate ``update_D`` and ``update_G``
    on every batch; see ``dcgan.backend.Backend.train``.

    New arrays are made on ``device`` (``jax.default_device``)."""
    return train_chapter(HOOKS, net_D, net_G, data_iter, num_epochs, lr, latent_dim, device,
                         config=config, run=run, resume=resume, workers=workers)


HOOKS = TrainHooks(
    layout=LAYOUT, make_loss=make_loss, make_trainers=make_trainers, make_step=make_step,
    to_canonical=to_canonical, from_canonical=from_canonical, trainer_state=trainer_state,
    load_trainer_state=load_trainer_state, as_tensor=as_tensor, generate=generate,
    resolve_device=resolve_device, to_device=to_device, use_precision=use_precision,
    device_scope=jax.default_device)
"""This framework's pieces of the shared body of ``train`` (``dcgan.training``)."""


def main(argv: list[str] | None = None) -> int:
    """``python -m dcgan.jax.train``; see ``--help``."""
    return cli.main(NAME, argv)


if __name__ == "__main__":
    sys.exit(main())
