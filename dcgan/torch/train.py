"""Training the chapter's DCGAN with PyTorch: ``python -m dcgan.torch.train``.

Section "Training" of the chapter.

``update_D``, ``update_G`` and ``train`` keep the chapter's names and
signatures; the epoch loop, the progress bar and the run folder are shared
with the other backends (``dcgan.loop``, ``dcgan.runs``, ``dcgan.cli``).
"""

from __future__ import annotations

import dataclasses
import os
import random
import sys
from contextlib import contextmanager, nullcontext
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from dcgan import cli
from dcgan.checkpoints import Checkpoint
from dcgan.config import ADAM_EPSILON, Config
from dcgan.distributed import DEFAULT_TIMEOUT_S, Workers, lost, reporting_lost_workers
from dcgan.files import atomic_path
from dcgan.loop import EpochMetrics
from dcgan.runs import RunFolder
from dcgan.torch import LAYOUT, NAME
from dcgan.torch.data import as_numpy, as_tensor
from dcgan.torch.nets import (
    autocast,
    forward,
    from_canonical,
    precision_in_use,
    synchronize_batch_norm,
    to_canonical,
    to_device,
    use_precision,
)
from dcgan.training import TrainHooks, train_chapter


def make_loss() -> nn.Module:
    """Binary cross-entropy on logits, summed over the batch (the chapter's reduction)."""
    return nn.BCEWithLogitsLoss(reduction="sum")


def make_trainers(net_D: nn.Module, net_G: nn.Module, lr: float, beta1: float = 0.5,
                  beta2: float = 0.999,
                  epsilon: float = ADAM_EPSILON) -> tuple[torch.optim.Adam, torch.optim.Adam]:
    """Adam for each net with the chapter's betas and the shared epsilon. At fp16 each
    carries its net's gradient scaler as ``scaler`` (a ``torch.amp.GradScaler``, which
    the step uses and the checkpoint keeps, as Keras' LossScaleOptimizer holds its
    scale)."""
    hyperparameters = {"lr": lr, "betas": (beta1, beta2), "eps": epsilon}
    trainers = (torch.optim.Adam(net_D.parameters(), **hyperparameters),
                torch.optim.Adam(net_G.parameters(), **hyperparameters))
    if precision_in_use() == "fp16":
        device_type = next(net_D.parameters()).device.type
        for trainer in trainers:
            trainer.scaler = torch.amp.GradScaler(device_type)
    return trainers


def _scaler(trainer: torch.optim.Optimizer) -> torch.amp.GradScaler | None:
    """fp16's gradient scaler of ``trainer`` (:func:`make_trainers`), None at other
    precisions."""
    return getattr(trainer, "scaler", None)


def trainer_state(trainer: torch.optim.Optimizer) -> dict[str, np.ndarray]:
    """The optimizer's state as arrays: ``<parameter index>.<exp_avg|exp_avg_sq|step>``, and
    at fp16 its scaler's ``scaler.scale`` and ``scaler.growth_tracker``."""
    arrays = {f"{index}.{name}": value.detach().cpu().numpy().copy()
              for index, state in trainer.state_dict()["state"].items()
              for name, value in state.items()}
    scaler = _scaler(trainer)
    if scaler is not None:
        state = scaler.state_dict()
        arrays["scaler.scale"] = np.array(state["scale"], dtype=np.float32)
        arrays["scaler.growth_tracker"] = np.array(state["_growth_tracker"], dtype=np.int64)
    return arrays


def load_trainer_state(trainer: torch.optim.Optimizer, arrays: dict[str, np.ndarray]) -> None:
    """Load :func:`trainer_state`'s arrays; a state that does not fit the parameters is an
    error, and the optimizer is left untouched."""
    parameters = [p for group in trainer.param_groups for p in group["params"]]
    scaler_arrays = {k: v for k, v in arrays.items() if k.startswith("scaler.")}
    arrays = {k: v for k, v in arrays.items() if k not in scaler_arrays}
    scaler = _scaler(trainer)
    if bool(scaler_arrays) != (scaler is not None):
        raise ValueError("the checkpoint was written at another precision than this run's: "
                         "fp16's gradient scaler is in one and not the other")
    state: dict[int, dict[str, torch.Tensor]] = {}
    for key, array in arrays.items():
        index, _, name = key.partition(".")
        if not index.isdigit() or int(index) >= len(parameters):
            raise ValueError(f"optimizer state {key!r} names no parameter of this net")
        if name != "step" and tuple(array.shape) != tuple(parameters[int(index)].shape):
            raise ValueError(f"optimizer state {key!r} has shape {tuple(array.shape)}, the "
                             f"parameter {tuple(parameters[int(index)].shape)}")
        if name == "step":  # a scalar, which safetensors stores as shape (1,)
            array = np.reshape(array, ())
        state.setdefault(int(index), {})[name] = torch.from_numpy(np.array(array))
    trainer.load_state_dict({"state": state,
                             "param_groups": trainer.state_dict()["param_groups"]})
    if scaler is not None:
        scaler.load_state_dict({
            **scaler.state_dict(),
            "scale": float(np.reshape(scaler_arrays["scaler.scale"], ())),
            "_growth_tracker": int(np.reshape(scaler_arrays["scaler.growth_tracker"], ()))})


def _backward_and_step(loss_value: torch.Tensor, trainer: torch.optim.Optimizer,
                       scaler: torch.amp.GradScaler | None) -> None:
    """``backward()`` and the optimizer's step, through fp16's gradient scaler if any (which
    skips a step whose gradients overflowed and lowers the scale)."""
    if scaler is None:
        loss_value.backward()
        trainer.step()
        return
    scaler.scale(loss_value).backward()
    scaler.step(trainer)
    scaler.update()


def update_D(X: torch.Tensor, Z: torch.Tensor, net_D: nn.Module, net_G: nn.Module,
             loss: nn.Module, trainer_D: torch.optim.Optimizer, *,
             record_generator: bool = False,
             scaler: torch.amp.GradScaler | None = None,
             as_float: bool = True) -> float | torch.Tensor:
    """Update the discriminator on real ``X`` and fakes from ``Z``, to maximize
    log D(x) + log(1 - D(G(z))) (minimize the cross-entropy of real as 1, fake as 0);
    returns the summed loss.

    The chapter runs the generator with autograd recording and then detaches
    its output (``record_generator=True``, what ``--eager`` does); by default
    the generator's forward pass records nothing, which gives the same
    numbers without building a graph that is thrown away. The forward passes run
    at the chosen precision (``dcgan.torch.nets.use_precision``), the loss in
    float32; ``scaler`` is fp16's gradient scaler. ``as_float=False`` returns the loss as
    a 0-d tensor on the device instead of waiting for it (``dcgan.loop`` reads it later).
    """
    batch_size = X.shape[0]
    ones = torch.ones((batch_size,), device=X.device)
    zeros = torch.zeros((batch_size,), device=X.device)
    trainer_D.zero_grad()
    with autocast(X.device):
        real_Y = net_D(X).float()
        with torch.set_grad_enabled(record_generator):
            fake_X = net_G(Z)
        # Do not need to compute gradient for `net_G`, detach it from
        # computing gradients.
        fake_Y = net_D(fake_X.detach()).float()
    loss_D = (loss(real_Y, ones.reshape(real_Y.shape)) +
              loss(fake_Y, zeros.reshape(fake_Y.shape))) / 2
    _backward_and_step(loss_D, trainer_D, scaler)
    return loss_D.item() if as_float else loss_D.detach()


@contextmanager
def _held_constant(net: nn.Module) -> Iterator[None]:
    """Inside, autograd computes no gradient for ``net``'s parameters."""
    trainable = [p for p in net.parameters() if p.requires_grad]
    for p in trainable:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p in trainable:
            p.requires_grad_(True)


def update_G(Z: torch.Tensor, net_D: nn.Module, net_G: nn.Module, loss: nn.Module,
             trainer_G: torch.optim.Optimizer, *,
             discriminator_gradients: bool = False,
             scaler: torch.amp.GradScaler | None = None,
             as_float: bool = True) -> float | torch.Tensor:
    """Update the generator so that ``net_D`` takes its fakes for real, to maximize
    log D(G(z)) (the chapter's and the paper's non-saturating loss, not
    minimize log(1 - D(G(z)))); returns the summed loss.

    The chapter's backward pass also computes the gradients of ``net_D``'s
    weights, which nothing uses: ``update_D`` zeroes them before its own
    (``discriminator_gradients=True``, what ``--eager`` does). By default
    ``net_D``'s weights are held constant here, so only the gradient that
    flows through ``net_D`` to ``net_G`` is computed: the same update of
    ``net_G`` with less arithmetic. Precision, ``scaler`` and ``as_float`` as in
    :func:`update_D`.
    """
    batch_size = Z.shape[0]
    ones = torch.ones((batch_size,), device=Z.device)
    trainer_G.zero_grad()
    with nullcontext() if discriminator_gradients else _held_constant(net_D):
        with autocast(Z.device):
            # We could reuse `fake_X` from `update_D` to save computation
            fake_X = net_G(Z)
            # Recomputing `fake_Y` is needed since `net_D` is changed
            fake_Y = net_D(fake_X).float()
        loss_G = loss(fake_Y, ones.reshape(fake_Y.shape))
        _backward_and_step(loss_G, trainer_G, scaler)
    return loss_G.item() if as_float else loss_G.detach()


def make_step(net_D: nn.Module, net_G: nn.Module, loss: nn.Module,
              trainer_D: torch.optim.Optimizer, trainer_G: torch.optim.Optimizer,
              latent_dim: int, eager: bool = False, compile: bool = False,
              workers: Workers | None = None
              ) -> Callable[[torch.Tensor, torch.Tensor], tuple[Any, Any]]:
    """``both_updates(X, Z) -> (loss_D, loss_G)``: both updates on one batch.

    By default the nets and each batch use the channels-last memory layout,
    which oneDNN's CPU convolutions run faster (same numbers, another order
    in memory), and ``update_D`` records no graph for the generator;
    ``eager=True`` keeps PyTorch's default layout and the chapter's recording
    and returns the losses as floats; by default they stay 0-d tensors on the
    device until ``float()`` reads them. ``compile=True`` compiles both nets
    with ``torch.compile`` (TorchInductor's fused kernels; on a GPU
    ``mode="reduce-overhead"``, which replays each step's kernels as CUDA
    graphs instead of launching them one by one): the first steps wait for
    the compiler, and the numbers differ from the uncompiled step's by rounding.
    At fp16 each net's update has its own gradient scaler, the one its optimizer carries.

    With several ``workers`` (:func:`start_workers`) ``X`` and ``Z`` are this worker's
    part of the global batch: BatchNorm sees the global batch
    (:func:`dcgan.torch.nets.synchronize_batch_norm`), each net's update goes through
    ``DistributedDataParallel``, whose gradient all-reduce sums the workers' gradients
    (the chapter's loss is a sum over the batch; DDP would average them), and the losses
    returned are the global batch's.
    """
    device = next(net_D.parameters()).device
    distributed = workers is not None and workers.size > 1
    if distributed:
        synchronize_batch_norm(net_D, device)
        synchronize_batch_norm(net_G, device)
    if not eager:
        net_D.to(memory_format=torch.channels_last)
        net_G.to(memory_format=torch.channels_last)
    if compile:
        for net in (net_D, net_G):
            net.compile(mode="reduce-overhead" if device.type == "cuda" else None)
    # Each net's update runs through its own DDP wrapper, and the other net as is: the
    # generator's forward pass in update_D and the discriminator's in update_G give no
    # gradient to their weights, which DDP would otherwise wait for.
    update_D_of = (_data_parallel(net_D, device), net_G) if distributed else (net_D, net_G)
    update_G_of = (net_D, _data_parallel(net_G, device)) if distributed else (net_D, net_G)
    scaler_D, scaler_G = _scaler(trainer_D), _scaler(trainer_G)

    def step(X: torch.Tensor, Z: torch.Tensor) -> tuple[Any, Any]:
        if compile:  # the CUDA graphs' outputs of the last step may be overwritten now
            torch.compiler.cudagraph_mark_step_begin()
        X, Z = X.to(device), Z.to(device)
        if not eager:
            X = X.contiguous(memory_format=torch.channels_last)
        losses = (update_D(X, Z, *update_D_of, loss, trainer_D, record_generator=eager,
                           scaler=scaler_D, as_float=eager and not distributed),
                  update_G(Z, *update_G_of, loss, trainer_G, discriminator_gradients=eager,
                           scaler=scaler_G, as_float=eager and not distributed))
        if not distributed:
            return losses
        total = torch.stack(losses)
        dist.all_reduce(total)
        return (float(total[0]), float(total[1])) if eager else (total[0], total[1])

    return reporting_lost_workers(step, workers, _failed_collective) if distributed else step


def _data_parallel(net: nn.Module, device: torch.device) -> DistributedDataParallel:
    """``net`` wrapped in DDP with the workers' gradients summed, not averaged, and
    BatchNorm's running statistics left alone (they are the same on every worker)."""
    wrapped = DistributedDataParallel(net, device_ids=[device] if device.type == "cuda" else None,
                                      forward_sync_buffers=False)
    wrapped.register_comm_hook(None, _summed_gradients)
    return wrapped


def _summed_gradients(state, bucket):  # DDP checks these annotations: none, or its own
    """DDP's communication hook: the sum of the workers' gradients (its default divides the
    sum by the number of workers)."""
    future = dist.all_reduce(bucket.buffer(), async_op=True).get_future()
    return future.then(lambda done: done.value()[0])


_COMMUNICATION_BACKENDS = ("gloo", "nccl", "c10d", "processgroup")


def _failed_collective(err: Exception) -> bool:
    """Whether ``err`` is a collective's failure: ``torch.distributed``'s own error, or the
    plain RuntimeError that the functional collectives (the BatchNorm statistics' all-reduce)
    raise with the communication backend's message."""
    return isinstance(err, dist.DistError) or (
        isinstance(err, RuntimeError)
        and any(word in str(err).lower() for word in _COMMUNICATION_BACKENDS))


_LAUNCHER_ENVIRONMENT = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")


def start_workers(device: str = "auto", timeout_s: float = DEFAULT_TIMEOUT_S) -> Workers:
    """Join the workers that ``torchrun`` started (it describes them in the environment):
    ``torch.distributed``'s process group, gloo on the CPU and NCCL on GPUs (each worker
    on the GPU of its ``LOCAL_RANK``), every collective bounded by ``timeout_s``.

    Outside ``torchrun`` the error says how to start the workers; workers that do not all
    join within ``timeout_s`` raise ``dcgan.distributed.WorkersLost``.
    """
    missing = [name for name in _LAUNCHER_ENVIRONMENT if name not in os.environ]
    if missing:
        raise ValueError(f"--distributed: {', '.join(missing)} not set; start the workers "
                         f"with PyTorch's launcher: torchrun --nproc-per-node N -m "
                         f"dcgan.torch.train --distributed ...")
    on_gpu = resolve_device(device).type == "cuda"
    rank, size = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    if on_gpu:
        torch.cuda.set_device(int(os.environ["LOCAL_RANK"]))
    workers = Workers(rank, size, timeout_s)
    try:
        dist.init_process_group("nccl" if on_gpu else "gloo",
                                timeout=timedelta(seconds=timeout_s))
    except dist.DistError as err:
        raise lost(workers, err) from err
    flag_device = torch.device("cuda", torch.cuda.current_device()) if on_gpu else None

    def any_of(flag: bool) -> bool:
        value = torch.tensor([float(flag)], device=flag_device)
        dist.all_reduce(value, op=dist.ReduceOp.MAX)
        return bool(value.item())

    return dataclasses.replace(
        workers, any_of=reporting_lost_workers(any_of, workers, _failed_collective),
        close=dist.destroy_process_group)


def set_seed(seed: int) -> None:
    """Seed Python, numpy and torch so that two CPU runs give the same losses."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def check_compile(device: torch.device) -> None:
    """Refuse ``--compile`` on a CPU without a C++ compiler: TorchInductor writes the CPU
    kernels in C++ and compiles them (``g++``, or ``$CXX``) at the first step."""
    if torch.device(device).type != "cpu":
        return
    from torch._inductor.cpp_builder import get_cpp_compiler
    from torch._inductor.exc import InvalidCxxCompiler

    try:
        get_cpp_compiler()
    except InvalidCxxCompiler:
        raise ValueError("--compile on the CPU: TorchInductor compiles its kernels as C++ and "
                         "found no compiler; install g++ (or point $CXX at one), or drop "
                         "--compile") from None


def resolve_device(choice: str = "auto") -> torch.device:
    """``auto`` (a GPU if there is one), ``cpu`` or ``gpu``/``cuda`` (an error without one);
    the GPU is the current one (``cuda:0``, or a data-parallel worker's own)."""
    if choice == "cpu":
        return torch.device("cpu")
    if choice in ("gpu", "cuda"):
        if not torch.cuda.is_available():
            raise ValueError("--device gpu: PyTorch sees no CUDA GPU here; use --device cpu "
                             "or auto")
        return torch.device("cuda", torch.cuda.current_device())
    if choice == "auto":
        return resolve_device("gpu" if torch.cuda.is_available() else "cpu")
    raise ValueError(f"unknown device {choice!r}; choose auto, cpu or gpu")


def generate(net_G: nn.Module, Z: torch.Tensor) -> np.ndarray:
    """Images from noise; see ``dcgan.backend.Backend.generate``."""
    return as_numpy(forward(net_G, Z, training=False))


def save_weights(net_D: nn.Module, net_G: nn.Module, folder: str | Path) -> list[Path]:
    """Save both nets' state dicts as ``net_D.pt`` and ``net_G.pt`` in ``folder``."""
    paths = []
    for name, net in (("net_D", net_D), ("net_G", net_G)):
        path = Path(folder) / f"{name}.pt"
        with atomic_path(path) as tmp:
            torch.save(net.state_dict(), tmp)
        paths.append(path)
    return paths


def train(net_D: nn.Module, net_G: nn.Module, data_iter: Iterable, num_epochs: int, lr: float,
          latent_dim: int, device: torch.device | None = None, *,
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
    """``python -m dcgan.torch.train``; see ``--help``."""
    return cli.main(NAME, argv)


if __name__ == "__main__":
    sys.exit(main())
