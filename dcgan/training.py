"""The shared half of the chapter's ``train``: everything but the framework's own pieces.

Each backend's ``train.py`` keeps what the chapter shows (``update_D``,
``update_G``, and ``make_step``, which runs both on a batch) and its
framework's hooks, and its ``train`` (the chapter's signature) hands them, as
:class:`TrainHooks`, to :func:`train_chapter`, written here once, as Keras 3
writes its trainer once over small per-backend hooks. A new backend writes
its hooks and copies nothing.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import numpy as np

from dcgan.checkpoints import capture, restore
from dcgan.config import Config
from dcgan.distributed import Workers
from dcgan.loop import EpochMetrics, fit
from dcgan.shapes import Layout
from dcgan.weights import initialize_nets


@dataclass(frozen=True)
class TrainHooks:
    """A framework's pieces of the chapter's ``train``: what :func:`train_chapter` calls.

    The functions are the backend's own (``dcgan.backend.Backend`` documents each);
    ``device_scope`` is a context in which the optimizers and the loop run
    (TensorFlow's ``tf.device``, elsewhere nothing).
    """

    layout: Layout
    make_loss: Callable[[], Any]
    make_trainers: Callable[..., tuple[Any, Any]]
    make_step: Callable[..., Callable[[Any, Any], tuple[float, float]]]
    to_canonical: Callable[[Any], dict]
    from_canonical: Callable[[Any, dict], None]
    trainer_state: Callable[[Any], dict]
    load_trainer_state: Callable[[Any, dict], None]
    as_tensor: Callable[[np.ndarray, Any], Any]
    generate: Callable[[Any, Any], np.ndarray]
    resolve_device: Callable[[str], Any]
    to_device: Callable[[Any, Any], Any]
    use_precision: Callable[[str, Any], str]
    device_scope: Callable[[Any], Any] = lambda device: contextlib.nullcontext()



def train_chapter(hooks: TrainHooks, net_D: Any, net_G: Any, data_iter: Iterable,
                  num_epochs: int, lr: float, latent_dim: int, device: Any = None, *,
                  config: Any = None, run: Any = None, resume: Any = None,
                  workers: Workers | None = None) -> list[EpochMetrics]:
    """The body of every backend's ``train`` (see ``dcgan.backend.Backend.train``).

    The chapter draws every parameter from N(0, 0.02) with its framework's
    generator; we draw the same distribution with numpy (``dcgan.weights``) so
    that all backends start alike (BatchNorm's scale and shift as
    ``config.bn_init`` says), or load ``config.init_from``; ``config.precision``
    is the arithmetic (``dcgan.precision``). Then Adam for
    each net, a checkpoint's state if resuming, the backend's ``make_step``, and
    the epochs (:func:`fit`); with ``workers``, as one worker of a data-parallel run
    (``dcgan.distributed``).
    """
    config = config or Config(latent_dim=latent_dim, lr=lr, num_epochs=num_epochs)
    device = device or hooks.resolve_device("auto")
    hooks.use_precision(config.precision, device)
    loss = hooks.make_loss()
    initialize_nets(net_D, net_G, hooks.to_canonical, hooks.from_canonical, config.init_std,
                    config.seed, config.init_from, config.bn_init)
    net_D, net_G = hooks.to_device(net_D, device), hooks.to_device(net_G, device)
    with hooks.device_scope(device):
        trainer_D, trainer_G = hooks.make_trainers(net_D, net_G, lr, config.beta1, config.beta2)
        if resume is not None:
            restore(resume, net_D, net_G, trainer_D, trainer_G, hooks.from_canonical,
                    hooks.load_trainer_state)
        both_updates = hooks.make_step(net_D, net_G, loss, trainer_D, trainer_G, latent_dim,
                                       eager=config.eager, compile=config.compile,
                                       workers=workers)
        return fit(both_updates, data_iter, num_epochs, seed=config.seed,
                   latent_dim=latent_dim, layout=hooks.layout,
                   to_tensor=lambda Z: hooks.as_tensor(Z, device),
                   generate=lambda Z: hooks.generate(net_G, Z), device=device, run=run,
                   state=lambda: capture(net_D, net_G, trainer_D, trainer_G,
                                         hooks.to_canonical, hooks.trainer_state),
                   start=resume.position if resume is not None else None, workers=workers)

