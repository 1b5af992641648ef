"""Training the chapter's DCGAN with MXNet Gluon: ``python -m dcgan.mxnet.train``.

Section "Training" of the chapter.

``update_D``, ``update_G`` and ``train`` keep the chapter's names and
signatures; the epoch loop, the progress bar and the run folder are shared
with the other backends (``dcgan.loop``, ``dcgan.runs``, ``dcgan.cli``).
Where this differs from the chapter's MXNet tab:

* ``trainer.step(1)`` instead of ``trainer.step(batch_size)``: the chapter's
  MXNet tab divides the gradient by the batch size (it minimises the mean
  loss), while its PyTorch tab minimises the sum. We minimise the sum in all
  backends so that they compute the same update;
* Adam adds its epsilon where PyTorch does (:class:`Adam`);
* BatchNorm scale and shift start from the shared N(0, 0.02) draw like the
  other tabs' (``init.Normal`` leaves them at 1 and 0);
* the nets are hybridized (compiled) unless ``--eager``.
"""

from __future__ import annotations

import dataclasses
import math
import os
import random
import sys
import threading
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Callable, Iterable, Iterator

import mxnet as mx
import numpy as onp
from mxnet import autograd, gluon, np
from mxnet.base import _LIB, check_call

from dcgan import cli
from dcgan.checkpoints import Checkpoint
from dcgan.config import ADAM_EPSILON, Config
from dcgan.distributed import (
    DEFAULT_TIMEOUT_S,
    Workers,
    cpu_devices,
    eager_on_one_device,
    lost,
)
from dcgan.files import atomic_path
from dcgan.loop import EpochMetrics
from dcgan.mxnet import LAYOUT, NAME
from dcgan.mxnet.blocks import Processes, RunningUpdates, update_running_statistics
from dcgan.mxnet.data import as_numpy, as_tensor
from dcgan.mxnet.nets import (
    forward,
    forward_on_devices,
    from_canonical,
    to_canonical,
    to_device,
    use_precision,
)
from dcgan.runs import RunFolder
from dcgan.training import TrainHooks, train_chapter


def make_loss() -> gluon.loss.Loss:
    """Binary cross-entropy on logits, one value per example (summed in the updates)."""
    return gluon.loss.SigmoidBCELoss()


class Adam(mx.optimizer.Adam):
    """Gluon's Adam with PyTorch's placement of epsilon.

    Gluon adds epsilon to sqrt(v) before the bias correction (the Adam
    paper's "epsilon hat"), PyTorch after it: ``m_hat / (sqrt(v_hat) + eps)``.
    At the first steps, with gradients of 1e-5 (common here), that changes
    the update by percents; scaling epsilon by sqrt(1 - beta2^t) makes the
    two identical.
    """

    def update(self, index, weight, grad, state):
        """One Adam update of ``weight``, as PyTorch computes it."""
        self._update_count(index)
        t = self._index_update_count[index]
        bias_correction1, bias_correction2 = 1 - self.beta1 ** t, 1 - self.beta2 ** t
        mean, var = state
        mx.nd.adam_update(weight, grad, mean, var, out=weight,
                          lr=self._get_lr(index) * math.sqrt(bias_correction2) / bias_correction1,
                          wd=self._get_wd(index), beta1=self.beta1, beta2=self.beta2,
                          epsilon=self.epsilon * math.sqrt(bias_correction2),
                          rescale_grad=self.rescale_grad)


def make_trainers(net_D: gluon.Block, net_G: gluon.Block, lr: float, beta1: float = 0.5,
                  beta2: float = 0.999,
                  epsilon: float = ADAM_EPSILON) -> tuple[gluon.Trainer, gluon.Trainer]:
    """Adam for each net with the chapter's betas, the shared epsilon and PyTorch's formula.

    The parameters go in as a list, in the net's order: given the dict, Gluon
    sorts them by their generated names, which depend on how many blocks the
    process made before, and a checkpoint's optimizer state, kept by position,
    would not fit the same net in another process.
    """
    return tuple(gluon.Trainer(list(net.collect_params().values()),
                               Adam(learning_rate=lr, beta1=beta1, beta2=beta2,
                                    epsilon=epsilon))
                 for net in (net_D, net_G))


def trainer_state(trainer: gluon.Trainer) -> dict[str, onp.ndarray]:
    """Adam's state as arrays: ``<parameter index>.<mean|var|step>``: the first device's
    (Gluon updates on each device, not in the kvstore, and every device's is the same)."""
    updater = trainer._updaters[0]
    counts = trainer._optimizer._all_index_update_counts.get(trainer._contexts[0].device_id, {})
    arrays = {}
    for index, (mean, var) in updater.states.items():
        arrays[f"{index}.mean"] = mean.asnumpy()
        arrays[f"{index}.var"] = var.asnumpy()
        arrays[f"{index}.step"] = onp.array(counts.get(index, 0), dtype=onp.int64)
    return arrays


def load_trainer_state(trainer: gluon.Trainer, arrays: dict[str, onp.ndarray]) -> None:
    """Load :func:`trainer_state`'s arrays; a state that does not fit the parameters is an
    error, and the optimizer is left untouched."""
    parameters = list(trainer._params)
    states, counts = {}, {}
    for key, array in arrays.items():
        index, _, name = key.partition(".")
        if not index.isdigit() or int(index) >= len(parameters):
            raise ValueError(f"optimizer state {key!r} names no parameter of this net")
        i = int(index)
        if name == "step":
            counts[i] = int(onp.asarray(array).item())  # stored as shape (1,)
        elif tuple(array.shape) != tuple(parameters[i].shape):
            raise ValueError(f"optimizer state {key!r} has shape {tuple(array.shape)}, the "
                             f"parameter {tuple(parameters[i].shape)}")
        else:
            states.setdefault(i, {})[name] = array
    optimizer = trainer._optimizer
    for updater, device in zip(trainer._updaters, trainer._contexts):
        updater.states = {i: (mx.nd.array(s["mean"], ctx=device),
                              mx.nd.array(s["var"], ctx=device))
                          for i, s in states.items()}
        updater.states_synced = dict.fromkeys(updater.states, True)
        # In place: the optimizer reselects each device's dict before its update.
        device_counts = optimizer._all_index_update_counts.setdefault(device.device_id, {})
        device_counts.clear()
        device_counts.update(counts)
    optimizer.num_update = max(counts.values(), default=0)


def update_D(X: np.ndarray, Z: np.ndarray, net_D: gluon.Block, net_G: gluon.Block,
             loss: gluon.loss.Loss, trainer_D: gluon.Trainer, *,
             record_generator: bool = False, as_float: bool = True) -> float | np.ndarray:
    """Update the discriminator on real ``X`` and fakes from ``Z``, to maximize
    log D(x) + log(1 - D(G(z))) (minimize the cross-entropy of real as 1, fake as 0);
    returns the summed loss.

    The chapter runs the generator with autograd recording and then detaches
    its output (``record_generator=True``, what ``--eager`` does); by default
    the generator's forward pass records nothing (still in training mode),
    which gives the same numbers without building a graph that is thrown away.
    ``as_float=False`` returns the loss as an array that MXNet's engine is still
    computing, instead of waiting for it (``dcgan.loop`` reads it later).
    """
    batch_size = X.shape[0]
    ones = np.ones((batch_size,), ctx=X.ctx)
    zeros = np.zeros((batch_size,), ctx=X.ctx)
    with autograd.record():
        real_Y = net_D(X)
        with nullcontext() if record_generator else autograd.pause(train_mode=True):
            fake_X = net_G(Z)
        # Do not need to compute gradient for `net_G`, detach it from
        # computing gradients.
        fake_Y = net_D(fake_X.detach())
        loss_D = (loss(real_Y, ones) + loss(fake_Y, zeros)) / 2
    loss_D.backward()
    trainer_D.step(1)  # the gradient of the summed loss, as in PyTorch (see module docs)
    return float(loss_D.sum()) if as_float else loss_D.sum()


@contextmanager
def _held_constant(net: gluon.Block) -> Iterator[None]:
    """Inside, autograd computes no gradient for ``net``'s parameters."""
    trainable = [p for p in net.collect_params().values() if p.grad_req != "null"]
    requests = [p.grad_req for p in trainable]
    for p in trainable:
        p.grad_req = "null"
    try:
        yield
    finally:
        # Gluon gives each parameter a new zero gradient array here; the
        # trainer reads the current one at every step.
        for p, request in zip(trainable, requests):
            p.grad_req = request


def update_G(Z: np.ndarray, net_D: gluon.Block, net_G: gluon.Block, loss: gluon.loss.Loss,
             trainer_G: gluon.Trainer, *, discriminator_gradients: bool = False,
             as_float: bool = True) -> float | np.ndarray:
    """Update the generator so that ``net_D`` takes its fakes for real, to maximize
    log D(G(z)) (the chapter's and the paper's non-saturating loss, not
    minimize log(1 - D(G(z)))); returns the summed loss.

    The chapter's backward pass also computes the gradients of ``net_D``'s
    weights, which nothing uses: ``update_D`` overwrites them
    (``discriminator_gradients=True``, what ``--eager`` does). By default
    ``net_D``'s weights are held constant here, so only the gradient that
    flows through ``net_D`` to ``net_G`` is computed: the same update of
    ``net_G`` with less arithmetic. ``as_float`` as in :func:`update_D`.
    """
    batch_size = Z.shape[0]
    ones = np.ones((batch_size,), ctx=Z.ctx)
    with nullcontext() if discriminator_gradients else _held_constant(net_D):
        with autograd.record():
            # We could reuse `fake_X` from `update_D` to save computation
            fake_X = net_G(Z)
            # Recomputing `fake_Y` is needed since `net_D` is changed
            fake_Y = net_D(fake_X)
            loss_G = loss(fake_Y, ones)
        loss_G.backward()
    trainer_G.step(1)
    return float(loss_G.sum()) if as_float else loss_G.sum()


def _replicate(net: gluon.Block, trainer: gluon.Trainer, devices: list[mx.Context],
               kvstore: str | None = "device") -> None:
    """Put ``net``'s parameters on every one of ``devices`` and make ``trainer`` sum their
    gradients in a ``kvstore`` (None: the caller sums them) and update each device's copy
    alike, keeping its state: the book's multi-GPU training (``reset_ctx`` of a net already
    made, then the trainer over all the contexts, as a new ``gluon.Trainer`` would set
    itself up)."""
    state = trainer_state(trainer)
    net.collect_params().reset_ctx(devices)
    trainer._contexts = trainer._check_contexts()
    trainer._updaters = [mx.optimizer.get_updater(trainer._optimizer) for _ in devices]
    trainer._kvstore_params = {"kvstore": kvstore, "update_on_kvstore": False}
    trainer._reset_kvstore()
    load_trainer_state(trainer, state)


def _summed(losses: list[np.ndarray]) -> np.ndarray:
    """The devices' summed losses, added on the first device."""
    return sum(loss.sum().as_in_ctx(losses[0].ctx) for loss in losses)


class _ProcessGroup:
    """The worker processes of a run joined by MXNet's ``dist_sync`` kvstore, and the sums
    over them that a data-parallel step needs.

    ps-lite's server sums the workers' pushes to a key. Every worker makes the same calls
    in the same order (the same step's code), so the ``n``-th key that :meth:`reserve` gives
    after :meth:`new_step` is the same on every worker, made (``kv.init``, itself a collective)
    the first time it is reserved with that shape. Autograd runs the backward passes of
    :class:`_SumOverProcesses` in threads of its own, in no fixed order, so their keys are
    reserved in the forward pass.
    """

    def __init__(self, kv: mx.kvstore.KVStore) -> None:
        self.kv = kv
        self._keys: dict[tuple[int, tuple[int, ...]], int] = {}
        self._position = 0

    def new_step(self) -> None:
        """Start counting the keys again: the next is the step's first."""
        self._position = 0

    def reserve(self, array: mx.nd.NDArray) -> int:
        """The key of the next sum, of arrays shaped as ``array``."""
        place = (self._position, tuple(array.shape))
        self._position += 1
        if place not in self._keys:
            self._keys[place] = len(self._keys)
            self.kv.init(self._keys[place], mx.nd.zeros(array.shape, ctx=array.ctx))
        return self._keys[place]

    def summed(self, array: mx.nd.NDArray, key: int | None = None) -> mx.nd.NDArray:
        """``array`` summed over the processes (at ``key``, else the next one), a new array
        of the same kind (a numpy-semantics array for one, a legacy ``NDArray`` for the
        other)."""
        legacy = array.as_nd_ndarray() if isinstance(array, np.ndarray) else array
        out = mx.nd.zeros(legacy.shape, ctx=legacy.ctx)
        self.kv.pushpull(self.reserve(legacy) if key is None else key, legacy, out=out)
        return out.as_np_ndarray() if isinstance(array, np.ndarray) else out

    def sum_in_place(self, arrays: list[np.ndarray]) -> None:
        """Replace the copies of one array on this process's devices (a parameter's
        gradients) by their sum over the devices and the processes."""
        legacy = [array.as_nd_ndarray() for array in arrays]  # the same memory
        self.kv.pushpull(self.reserve(legacy[0]), legacy, out=legacy)

    def processes(self) -> Processes:
        """The processes as the global BatchNorm sees them: their number, and
        :class:`_SumOverProcesses` (a sum that autograd differentiates)."""
        return Processes(self.kv.num_workers, lambda array: _SumOverProcesses(self)(array))


class _SumOverProcesses(autograd.Function):
    """An array summed over the processes of a :class:`_ProcessGroup`; its gradient is the
    processes' gradients summed the same way (the transpose of a sum over processes)."""

    def __init__(self, group: _ProcessGroup) -> None:
        super().__init__()
        self.group = group
        self.backward_key: int | None = None

    def forward(self, array):
        """The sum over the processes; reserves the backward pass's key."""
        summed = self.group.summed(array)
        self.backward_key = self.group.reserve(array)
        return summed

    def backward(self, gradient):
        """The gradient, summed over the processes (autograd hands it over as a legacy
        ``NDArray`` and takes one back)."""
        return self.group.summed(gradient, self.backward_key)


@contextmanager
def _deadline(timeout_s: float, message: Callable[[], str]) -> Iterator[None]:
    """Inside, a wait of more than ``timeout_s`` ends the process with ``message`` as the
    command line prints errors, exit status 1. ps-lite waits for a lost worker without a
    bound, inside a call that Python cannot interrupt, so a timer thread does this; the
    checkpoint on disk is whole (written atomically), so the last one is kept."""

    def give_up() -> None:
        print(f"python -m dcgan.mxnet.train: error: {message()}", file=sys.stderr, flush=True)
        os._exit(1)

    timer = threading.Timer(timeout_s, give_up)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def _bounded(workers: Workers, function: Callable) -> Callable:
    """``function`` ended by :func:`_deadline` when it waits longer than the workers'
    timeout, with the error of a lost worker (``dcgan.distributed.lost``)."""

    def bounded(*args):
        with _deadline(workers.timeout_s, lambda: str(lost(workers, TimeoutError(
                f"no answer from the kvstore within {workers.timeout_s:g} s")))):
            return function(*args)

    return bounded


def _step_trainer(trainer: gluon.Trainer, group: _ProcessGroup | None) -> None:
    """``trainer.step(1)`` (see :func:`update_D`), the gradients summed over the devices by
    the trainer's kvstore, or, with a ``group`` of processes, over the devices and the
    processes by the group's."""
    if group is None:
        trainer.step(1)
        return
    for parameter in trainer._params:
        if parameter.grad_req != "null":
            group.sum_in_place(parameter.list_grad())
    trainer.update(1)


def _update_D_on_devices(Xs: list[np.ndarray], Zs: list[np.ndarray], net_D: gluon.Block,
                         net_G: gluon.Block, loss: gluon.loss.Loss, trainer_D: gluon.Trainer,
                         group: _ProcessGroup | None = None) -> np.ndarray:
    """:func:`update_D` on a batch split over devices (one part of ``Xs`` and ``Zs`` on
    each), and over the processes of ``group`` if any: every net runs on all the parts at
    once (``forward_on_devices``), each device's loss goes back through its part, and a
    kvstore sums the gradients (:func:`_step_trainer`)."""
    pending: RunningUpdates = []
    processes = group.processes() if group is not None else Processes()
    with autograd.record():
        real_Y = forward_on_devices(net_D, Xs, pending, processes)
        with autograd.pause(train_mode=True):
            fake_X = forward_on_devices(net_G, Zs, pending, processes)
        fake_Y = forward_on_devices(net_D, [X.detach() for X in fake_X], pending, processes)
        losses = [(loss(real, np.ones((real.shape[0],), ctx=real.ctx))
                   + loss(fake, np.zeros((fake.shape[0],), ctx=fake.ctx))) / 2
                  for real, fake in zip(real_Y, fake_Y)]
    autograd.backward(losses)
    update_running_statistics(pending)
    _step_trainer(trainer_D, group)
    return _summed(losses)


def _update_G_on_devices(Zs: list[np.ndarray], net_D: gluon.Block, net_G: gluon.Block,
                         loss: gluon.loss.Loss, trainer_G: gluon.Trainer,
                         group: _ProcessGroup | None = None) -> np.ndarray:
    """:func:`update_G` on noise split over devices, as :func:`_update_D_on_devices`."""
    pending: RunningUpdates = []
    processes = group.processes() if group is not None else Processes()
    with _held_constant(net_D):
        with autograd.record():
            fake_Y = forward_on_devices(
                net_D, forward_on_devices(net_G, Zs, pending, processes), pending, processes)
            losses = [loss(fake, np.ones((fake.shape[0],), ctx=fake.ctx)) for fake in fake_Y]
        autograd.backward(losses)
    update_running_statistics(pending)
    _step_trainer(trainer_G, group)
    return _summed(losses)


def _step_on_devices(net_D: gluon.Block, net_G: gluon.Block, loss: gluon.loss.Loss,
                     trainer_D: gluon.Trainer, trainer_G: gluon.Trainer, workers: Workers
                     ) -> Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Both updates, data-parallel over the ``workers.devices`` devices of the nets' kind
    in this process (each batch part and its noise split evenly over them,
    ``split_and_load``; the nets and trainers replicated, :func:`_replicate`), and over the
    worker processes of a ``dist_sync`` kvstore when there are several
    (:func:`start_workers`): their gradients, BatchNorm statistics and losses summed in
    it, and each step waited for, within the workers' timeout. Imperative, since the nets
    run layer by layer on all devices."""
    kind = next(iter(net_D.collect_params().values())).list_ctx()[0].device_type
    devices = [mx.Context(kind, i) for i in range(workers.devices)]
    group = _process_group(workers)
    for net, trainer in ((net_D, trainer_D), (net_G, trainer_G)):
        _replicate(net, trainer, devices, kvstore=None if group is not None else "device")

    def step(X: np.ndarray, Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        Xs = gluon.utils.split_and_load(X, devices, even_split=True)
        Zs = gluon.utils.split_and_load(Z, devices, even_split=True)
        if group is None:
            return (_update_D_on_devices(Xs, Zs, net_D, net_G, loss, trainer_D),
                    _update_G_on_devices(Zs, net_D, net_G, loss, trainer_G))
        group.new_step()
        losses = [_update_D_on_devices(Xs, Zs, net_D, net_G, loss, trainer_D, group),
                  _update_G_on_devices(Zs, net_D, net_G, loss, trainer_G, group)]
        summed = [group.summed(value.reshape(1)) for value in losses]
        mx.nd.waitall()  # the step's sums: a lost worker is found here, not later
        return tuple(value[0] for value in summed)

    return _bounded(workers, step) if group is not None else step


def make_step(net_D: gluon.Block, net_G: gluon.Block, loss: gluon.loss.Loss,
              trainer_D: gluon.Trainer, trainer_G: gluon.Trainer, latent_dim: int,
              eager: bool = False, compile: bool = False, workers: Workers | None = None
              ) -> Callable[[np.ndarray, np.ndarray], tuple[float, float]]:
    """``both_updates(X, Z) -> (loss_D, loss_G)``: both updates on one batch.

    By default both nets are hybridized: compiled into one static graph with
    memory allocated once, and ``update_D`` records no graph for the
    generator. ``eager=True`` runs them imperatively with the chapter's
    recording and returns the losses as floats (by default they are arrays the
    engine may still be computing, until ``float()`` reads them). ``compile``
    changes nothing: the static graph is already MXNet's answer to launch
    overhead (it has no further compiler).

    With ``workers`` on several devices or processes (:func:`start_workers`) the step is
    data-parallel, the way of the book's multi-GPU chapter: see :func:`_step_on_devices`.
    """
    if workers is not None and workers.total > 1:
        if eager:
            raise eager_on_one_device()
        return _step_on_devices(net_D, net_G, loss, trainer_D, trainer_G, workers)
    if not eager:
        for net in (net_D, net_G):
            net.hybridize(static_alloc=True, static_shape=True)
    # The nets' device; DataLoader workers hand batches over in shared memory
    # (cpu_shared), which a hybridized graph does not accept as cpu.
    device = next(iter(net_D.collect_params().values())).list_ctx()[0]

    def step(X: np.ndarray, Z: np.ndarray) -> tuple[float, float]:
        X, Z = X.as_in_ctx(device), Z.as_in_ctx(device)
        return (update_D(X, Z, net_D, net_G, loss, trainer_D, record_generator=eager,
                         as_float=eager),
                update_G(Z, net_D, net_G, loss, trainer_G, discriminator_gradients=eager,
                         as_float=eager))

    return step


def set_seed(seed: int) -> None:
    """Seed Python, numpy and MXNet so that two CPU runs give the same losses."""
    random.seed(seed)
    onp.random.seed(seed)
    mx.random.seed(seed)


def check_compile(device: mx.Context) -> None:
    """``--compile`` changes nothing here (the hybridized nets compile the step already):
    nothing to refuse."""


def resolve_device(choice: str = "auto") -> mx.Context:
    """``auto`` (a GPU if MXNet sees one), ``cpu`` or ``gpu`` (an error without one)."""
    has_gpu = mx.context.num_gpus() > 0
    if choice == "cpu":
        return mx.cpu()
    if choice in ("gpu", "cuda"):
        if not has_gpu:
            raise ValueError("--device gpu: MXNet sees no GPU here (the pip package mxnet is "
                             "CPU-only); use --device cpu or auto")
        return mx.gpu(0)
    if choice == "auto":
        return mx.gpu(0) if has_gpu else mx.cpu()
    raise ValueError(f"unknown device {choice!r}; choose auto, cpu or gpu")


def generate(net_G: gluon.Block, Z: np.ndarray) -> onp.ndarray:
    """Images from noise; see ``dcgan.backend.Backend.generate``."""
    return as_numpy(forward(net_G, Z, training=False))


def save_weights(net_D: gluon.Block, net_G: gluon.Block, folder: str | Path) -> list[Path]:
    """Save both nets' parameters as ``net_D.params`` and ``net_G.params`` in ``folder``."""
    paths = []
    for name, net in (("net_D", net_D), ("net_G", net_G)):
        path = Path(folder) / f"{name}.params"
        with atomic_path(path) as tmp:
            net.save_parameters(str(tmp))
        paths.append(path)
    return paths


def _process_group(workers: Workers) -> _ProcessGroup | None:
    """The ``dist_sync`` process group of ``workers`` (:func:`start_workers`); None for a run
    in this one process."""
    return workers.group if workers.size > 1 else None


def start_workers(device: str = "auto", timeout_s: float = DEFAULT_TIMEOUT_S) -> Workers:
    """Data-parallel training over all the devices of the kind ``device`` names in this
    process (:func:`make_step` splits each batch over them): every GPU, or the CPU contexts
    that ``DCGAN_CPU_DEVICES`` asks for (one otherwise).

    Started as a worker of MXNet's launcher (``DMLC_ROLE=worker``, and the scheduler's
    address in ``DMLC_PS_ROOT_URI`` and ``DMLC_PS_ROOT_PORT``), this process is also one
    of the worker processes joined by the ``dist_sync`` kvstore, which sums the
    gradients, the global BatchNorm's statistics (differentiably) and the losses over
    them. Joining, each step and each agreement on stopping are bounded by ``timeout_s``:
    ps-lite itself waits for ever, so a worker that waits longer leaves with the error of
    a lost worker, exit status 1 (:func:`_deadline`). With ``DMLC_ROLE`` scheduler or
    server, importing MXNet has already run that role and ended the process.
    """
    kind = resolve_device(device)
    devices = mx.context.num_gpus() if kind.device_type == "gpu" else cpu_devices()
    if os.environ.get("DMLC_ROLE") != "worker":
        return Workers(0, 1, timeout_s, devices=devices)
    address = (f"{os.environ.get('DMLC_PS_ROOT_URI', '?')}:"
               f"{os.environ.get('DMLC_PS_ROOT_PORT', '?')}")
    count = os.environ.get("DMLC_NUM_WORKER", "?")
    with _deadline(timeout_s, lambda: f"the {count} workers of the dist_sync kvstore did not "
                   f"all join: the scheduler at {address} or another worker did not answer "
                   f"within {timeout_s:g} s (--worker-timeout)"):
        kv = mx.kv.create("dist_sync")
    group = _ProcessGroup(kv)
    workers = Workers(kv.rank, kv.num_workers, timeout_s, devices=devices)

    def any_of(flag: bool) -> bool:
        return bool(group.summed(mx.nd.array([float(flag)])).asnumpy()[0] > 0)

    def close() -> None:
        # Now, not whenever Python collects the kvstore: freeing it waits for every worker's
        # (ps-lite's last barrier), and an object that an error's traceback holds may never
        # be freed, leaving the other workers waiting for ever.
        check_call(_LIB.MXKVStoreFree(kv.handle))
        kv.handle = None  # freeing NULL again, when Python collects it, does nothing

    return dataclasses.replace(workers, any_of=_bounded(workers, any_of),
                               close=_bounded(workers, close), group=group)


def train(net_D: gluon.Block, net_G: gluon.Block, data_iter: Iterable, num_epochs: int,
          lr: float, latent_dim: int, device: mx.Context | None = None, *,
          config: Config | None = None, run: RunFolder | None = None,
          resume: Checkpoint | None = None,
          workers: Workers | None = None) -> list[EpochMetrics]:
    """The chapter's ``train``: initialise, then alternate ``update_D`` and ``update_G``
    on every batch; see ``dcgan.backend.Backend.train``."""
    return train_chapter(HOOKS, net_D, net_G, data_iter, num_epochs, lr, latent_dim, device,
                         config=config, run=run, resume=resume, workers=workers)


HOOKS = TrainHooks(
    layout=LAYOUT, make_loss=make_loss, make_trainers=make_trainers, make_step=make_step,
    to_canonical=to_canonical, from_canonical=from_canonical, trainer_state=trainer_state,
    load_trainer_state=load_trainer_state, as_tensor=as_tensor, generate=generate,
    resolve_device=resolve_device, to_device=to_device, use_precision=use_precision)
"""This framework's pieces of the shared body of ``train`` (``dcgan.training``)."""


def main(argv: list[str] | None = None) -> int:
    """``python -m dcgan.mxnet.train``; see ``--help``."""
    return cli.main(NAME, argv)


if __name__ == "__main__":
    sys.exit(main())
