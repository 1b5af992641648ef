"""Training the chapter's DCGAN with TensorFlow/Keras 3: ``python -m dcgan.tensorflow.train``.

Section "Training" of the chapter.

``update_D``, ``update_G`` and ``train`` keep the chapter's names and
signatures; the epoch loop, the progress bar and the run folder are shared
with the other backends (``dcgan.loop``, ``dcgan.runs``, ``dcgan.cli``).
Where this differs from the chapter's TF tab:

* the nets are called with ``training=True`` in the updates. The chapter
  omits it, and outside ``fit()`` a Keras layer then runs BatchNorm in
  inference mode (running statistics, never updated), unlike the other tabs;
* the loss keeps each example in its own row, so ``reduction="sum"`` sums
  over the batch directly (the chapter squeezes the logits to (N,), which
  makes Keras average over the batch, and multiplies by the batch size to
  get the sum back);
* BatchNorm and Adam constants are PyTorch's (``dcgan.config``), Adam adds
  its epsilon where PyTorch does (:class:`Adam`), and the learning rate and
  epochs are the other tabs' 0.005 / 20, not 0.0005 / 40;
* the step runs as a compiled ``tf.function`` unless ``--eager``.
"""

from __future__ import annotations

import dataclasses
import faulthandler
import json
import os
import sys
from pathlib import Path
from typing import Callable, Iterable

import keras
import numpy as np
import tensorflow as tf

from dcgan import cli
from dcgan.checkpoints import Checkpoint
from dcgan.config import ADAM_EPSILON, Config
from dcgan.devices import on_gpu
from dcgan.distributed import (
    DEFAULT_TIMEOUT_S,
    Workers,
    cpu_devices,
    eager_on_one_device,
    reporting_lost_workers,
)
from dcgan.files import atomic_path
from dcgan.loop import EpochMetrics
from dcgan.runs import RunFolder
from dcgan.tensorflow import LAYOUT, NAME
from dcgan.tensorflow.data import as_numpy, as_tensor
from dcgan.tensorflow.nets import (
    check_precision,
    forward,
    from_canonical,
    synchronize_batch_norm,
    to_canonical,
    to_device,
    use_precision,
)
from dcgan.training import TrainHooks, train_chapter


def make_loss() -> keras.losses.Loss:
    """Binary cross-entropy on logits, summed over the batch (fed (N, 1) labels and logits)."""
    return keras.losses.BinaryCrossentropy(from_logits=True, reduction="sum")


class Adam(keras.optimizers.Adam):
    """Keras's Adam with PyTorch's placement of epsilon.

    Keras adds epsilon to sqrt(v) before the bias correction (the Adam
    paper's "epsilon hat"), PyTorch after it: ``m_hat / (sqrt(v_hat) + eps)``.
    At the first steps, with gradients of 1e-5 (common here), that changes
    the update by percents; scaling epsilon by sqrt(1 - beta_2^t) makes the
    two identical.
    """

    def update_step(self, gradient, variable, learning_rate):
        """One Adam update of ``variable``, as PyTorch computes it."""
        lr = keras.ops.cast(learning_rate, variable.dtype)
        gradient = keras.ops.cast(gradient, variable.dtype)
        step = keras.ops.cast(self.iterations + 1, variable.dtype)
        bias_correction1 = 1 - keras.ops.power(keras.ops.cast(self.beta_1, variable.dtype), step)
        bias_correction2 = 1 - keras.ops.power(keras.ops.cast(self.beta_2, variable.dtype), step)
        m = self._momentums[self._get_variable_index(variable)]
        v = self._velocities[self._get_variable_index(variable)]
        self.assign_add(m, (gradient - m) * (1 - self.beta_1))
        self.assign_add(v, (keras.ops.square(gradient) - v) * (1 - self.beta_2))
        alpha = lr * keras.ops.sqrt(bias_correction2) / bias_correction1
        epsilon = self.epsilon * keras.ops.sqrt(bias_correction2)
        self.assign_sub(variable, m * alpha / (keras.ops.sqrt(v) + epsilon))


def make_trainers(net_D: keras.Model, net_G: keras.Model, lr: float, beta1: float = 0.5,
                  beta2: float = 0.999,
                  epsilon: float = ADAM_EPSILON) -> tuple[Adam, Adam]:
    """Adam for each net with the chapter's betas, the shared epsilon (Keras's default is
    1e-7) and PyTorch's formula, built so that a compiled step creates no variables; under
    the ``mixed_float16`` policy wrapped in Keras' LossScaleOptimizer (dynamic loss
    scaling, which fp16's narrow range needs)."""
    trainers = []
    fp16 = keras.mixed_precision.global_policy().name == "mixed_float16"
    for net in (net_D, net_G):
        trainer = Adam(learning_rate=lr, beta_1=beta1, beta_2=beta2, epsilon=epsilon)
        if fp16:
            trainer = keras.optimizers.LossScaleOptimizer(trainer)
        trainer.build(net.trainable_variables)
        trainers.append(trainer)
    return trainers[0], trainers[1]


def trainer_state(trainer: keras.optimizers.Optimizer) -> dict[str, np.ndarray]:
    """The optimizer's variables as arrays, keyed by their position (step count, learning
    rate, then Adam's moments in the order of the net's variables)."""
    return {str(i): keras.ops.convert_to_numpy(v).copy() for i, v in enumerate(trainer.variables)}


def load_trainer_state(trainer: keras.optimizers.Optimizer, arrays: dict[str, np.ndarray]) -> None:
    """Load :func:`trainer_state`'s arrays; a state that does not fit is an error, and the
    optimizer is left untouched."""
    variables = trainer.variables
    expected = {str(i): tuple(v.shape) for i, v in enumerate(variables)}
    # safetensors stores a scalar (the step count) as shape (1,): compare sizes.
    if set(arrays) != set(expected) or any(np.size(arrays[k]) != np.prod(shape, dtype=int)
                                           for k, shape in expected.items()):
        raise ValueError(f"optimizer state does not fit this net: {len(arrays)} arrays for "
                         f"{len(variables)} optimizer variables, or their sizes differ")
    for i, variable in enumerate(variables):
        variable.assign(np.reshape(arrays[str(i)], expected[str(i)]))


def _as_float(loss: tf.Tensor) -> float | tf.Tensor:
    """A Python float when running eagerly (the chapter's contract); inside a compiled
    ``tf.function`` the tensor itself, which the caller converts after the step."""
    return float(loss) if tf.executing_eagerly() else loss


def update_D(X: tf.Tensor, Z: tf.Tensor, net_D: keras.Model, net_G: keras.Model,
             loss: keras.losses.Loss, trainer_D: keras.optimizers.Optimizer) -> float:
    """Update the discriminator on real ``X`` and fakes from ``Z``, to maximize
    log D(x) + log(1 - D(G(z))) (minimize the cross-entropy of real as 1, fake as 0);
    returns the summed loss. The logits are cast to float32 (a mixed policy computes in
    16 bits) and ``scale_loss`` is the loss scaling of fp16 (elsewhere the loss itself)."""
    batch_size = X.shape[0] if X.shape[0] is not None else tf.shape(X)[0]
    ones = tf.ones((batch_size, 1))  # Labels corresponding to real data
    zeros = tf.zeros((batch_size, 1))  # Labels corresponding to fake data
    # Do not need to compute gradient for `net_G`, so it is outside GradientTape
    fake_X = net_G(Z, training=True)
    with tf.GradientTape() as tape:
        real_Y = tf.reshape(tf.cast(net_D(X, training=True), tf.float32), (-1, 1))
        fake_Y = tf.reshape(tf.cast(net_D(fake_X, training=True), tf.float32), (-1, 1))
        loss_D = (loss(ones, real_Y) + loss(zeros, fake_Y)) / 2
        scaled_loss_D = trainer_D.scale_loss(loss_D)
    grads_D = tape.gradient(scaled_loss_D, net_D.trainable_variables)
    trainer_D.apply_gradients(zip(grads_D, net_D.trainable_variables))
    return _as_float(loss_D)


def update_G(Z: tf.Tensor, net_D: keras.Model, net_G: keras.Model, loss: keras.losses.Loss,
             trainer_G: keras.optimizers.Optimizer) -> float:
    """Update the generator so that ``net_D`` takes its fakes for real, to maximize
    log D(G(z)) (the chapter's and the paper's non-saturating loss, not
    minimize log(1 - D(G(z)))); returns the summed loss. Precision as in ``update_D``."""
    batch_size = Z.shape[0] if Z.shape[0] is not None else tf.shape(Z)[0]
    ones = tf.ones((batch_size, 1))
    with tf.GradientTape() as tape:
        # We could reuse `fake_X` from `update_D` to save computation
        fake_X = net_G(Z, training=True)
        # Recomputing `fake_Y` is needed since `net_D` is changed
        fake_Y = tf.reshape(tf.cast(net_D(fake_X, training=True), tf.float32), (-1, 1))
        loss_G = loss(ones, fake_Y)
        scaled_loss_G = trainer_G.scale_loss(loss_G)
    grads_G = tape.gradient(scaled_loss_G, net_G.trainable_variables)
    trainer_G.apply_gradients(zip(grads_G, net_G.trainable_variables))
    return _as_float(loss_G)


def make_step(net_D: keras.Model, net_G: keras.Model, loss: keras.losses.Loss,
              trainer_D: keras.optimizers.Optimizer, trainer_G: keras.optimizers.Optimizer,
              latent_dim: int, eager: bool = False, compile: bool = False,
              workers: Workers | None = None
              ) -> Callable[[tf.Tensor, tf.Tensor], tuple[float, float]]:
    """``both_updates(X, Z) -> (loss_D, loss_G)``: both updates, compiled as one ``tf.function``
    (the default: the losses are tensors, read by ``float()`` when needed) or run eagerly
    as in the chapter (floats); ``compile=True`` has XLA compile the
    function into fused kernels (``jit_compile``: fewer launches, numbers that differ by
    rounding). The nets must have been built under the run's precision
    (:func:`dcgan.tensorflow.nets.use_precision`).

    With ``workers`` on several devices (:func:`start_workers`, which made the nets under
    its ``MirroredStrategy`` or ``MultiWorkerMirroredStrategy``) each device runs both
    updates on its part of the batch (``strategy.run``): Keras' optimizer sums the
    replicas' gradients, BatchNorm is synchronised
    (:func:`dcgan.tensorflow.nets.synchronize_batch_norm`), and the losses returned are the
    replicas' summed."""
    check_precision(net_D, net_G)
    workers = workers or Workers()
    if eager and workers.total > 1:
        raise eager_on_one_device()

    def both_updates(X, Z):
        return (update_D(X, Z, net_D, net_G, loss, trainer_D),
                update_G(Z, net_D, net_G, loss, trainer_G))

    if eager:
        return both_updates
    if tf.distribute.has_strategy():  # the nets' variables are mirrored (even over one worker)
        return _mirrored_step(both_updates, net_D, net_G, workers, compile)
    # A batch dimension of None lets the last, smaller batch reuse the graph.
    compiled = tf.function(both_updates, jit_compile=compile, input_signature=[
        tf.TensorSpec((None, 64, 64, 3), tf.float32),
        tf.TensorSpec((None, 1, 1, latent_dim), tf.float32)])

    return compiled


def _mirrored_step(both_updates: Callable, net_D: keras.Model, net_G: keras.Model,
                   workers: Workers, compile: bool) -> Callable[[tf.Tensor, tf.Tensor], tuple]:
    """``both_updates`` on every replica of the current strategy, each on its part of this
    process's batch (``Workers.part``), compiled as one ``tf.function``; the losses summed
    over all replicas (of every process)."""
    strategy = tf.distribute.get_strategy()
    devices, first_replica = workers.devices, workers.rank * workers.devices
    synchronize_batch_norm(net_D)
    synchronize_batch_norm(net_G)

    def on_replicas(X, Z):
        loss_D, loss_G = strategy.run(both_updates, args=(X, Z))
        return (strategy.reduce(tf.distribute.ReduceOp.SUM, loss_D, axis=None),
                strategy.reduce(tf.distribute.ReduceOp.SUM, loss_G, axis=None))

    compiled = tf.function(on_replicas, jit_compile=compile)

    def split(batch: tf.Tensor):
        parts = [batch[Workers(replica, devices).part(batch.shape[0])]
                 for replica in range(devices)]
        return strategy.experimental_distribute_values_from_function(
            lambda context: tf.identity(parts[context.replica_id_in_sync_group - first_replica]))

    return reporting_lost_workers(lambda X, Z: compiled(split(X), split(Z)), workers,
                                  _failed_collective)


_LOST_WORKER_ERRORS = (tf.errors.UnavailableError, tf.errors.DeadlineExceededError,
                       tf.errors.CancelledError, tf.errors.AbortedError)
"""How a collective of ``MultiWorkerMirroredStrategy`` fails when a worker has stopped or
does not answer within the timeout."""


def _failed_collective(err: Exception) -> bool:
    """Whether ``err`` is how a collective of ``MultiWorkerMirroredStrategy`` fails."""
    return isinstance(err, _LOST_WORKER_ERRORS)


def set_seed(seed: int) -> None:
    """Seed Python, numpy and TensorFlow so that two CPU runs give the same losses."""
    keras.utils.set_random_seed(seed)


def check_compile(device: str) -> None:
    """``--compile`` (XLA) runs on every device TensorFlow trains on: nothing to refuse."""


def resolve_device(choice: str = "auto") -> str:
    """``auto`` (a GPU if TensorFlow sees one), ``cpu`` or ``gpu`` (an error without one)."""
    has_gpu = bool(tf.config.list_physical_devices("GPU"))
    if choice == "cpu":
        return "/CPU:0"
    if choice in ("gpu", "cuda"):
        if not has_gpu:
            raise ValueError("--device gpu: TensorFlow sees no GPU here; use --device cpu or auto")
        return "/GPU:0"
    if choice == "auto":
        return "/GPU:0" if has_gpu else "/CPU:0"
    raise ValueError(f"unknown device {choice!r}; choose auto, cpu or gpu")


def generate(net_G: keras.Model, Z: tf.Tensor) -> np.ndarray:
    """Images from noise; see ``dcgan.backend.Backend.generate``."""
    return as_numpy(forward(net_G, Z, training=False))


def save_weights(net_D: keras.Model, net_G: keras.Model, folder: str | Path) -> list[Path]:
    """Save both nets' weights as ``net_D.weights.h5`` and ``net_G.weights.h5`` in ``folder``."""
    paths = []
    for name, net in (("net_D", net_D), ("net_G", net_G)):
        path = Path(folder) / f"{name}.weights.h5"
        with atomic_path(path, suffix=".weights.h5") as tmp:
            net.save_weights(tmp)
        paths.append(path)
    return paths


def start_workers(device: str = "auto", timeout_s: float = DEFAULT_TIMEOUT_S) -> Workers:
    """Data-parallel training with ``tf.distribute``, made the process's strategy (so that
    the nets and optimizers made after this are mirrored). Must run before TensorFlow's
    runtime starts.

    With ``TF_CONFIG`` set (the cluster's workers and this process's task), this process is
    one worker of a ``MultiWorkerMirroredStrategy`` over processes or machines (collectives
    over gRPC on the CPU, NCCL where the workers have GPUs), each collective bounded by
    ``timeout_s``. Without it, a ``MirroredStrategy`` over this process's devices: every
    GPU, or on the CPU the logical devices that ``DCGAN_CPU_DEVICES`` asks for (one when
    unset), when there are several."""
    kind = "GPU" if on_gpu(resolve_device(device)) else "CPU"
    if os.environ.get("TF_CONFIG"):
        return _join_workers(kind, timeout_s)
    if kind == "CPU":
        try:
            tf.config.set_logical_device_configuration(
                tf.config.list_physical_devices("CPU")[0],
                [tf.config.LogicalDeviceConfiguration()] * cpu_devices())
        except RuntimeError as err:  # the runtime has started
            raise ValueError(f"--distributed: TensorFlow's CPU devices are fixed once it has "
                             f"started ({err})") from err
    names = [d.name for d in tf.config.list_logical_devices(kind)]
    if len(names) > 1:  # on one device, the ordinary step
        # NCCL between GPUs (the default); on the CPU, where it does not run, one device sums.
        reduction = tf.distribute.ReductionToOneDevice() if kind == "CPU" else None
        tf.distribute.experimental_set_strategy(
            tf.distribute.MirroredStrategy(names, cross_device_ops=reduction))
    return Workers(0, 1, timeout_s, devices=len(names))


_TF_CONFIG_EXAMPLE = ('{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
                      '"task": {"type": "worker", "index": 0}}')


def _bounded_join(rank: int, size: int, timeout_s: float,
                  join: Callable[[], tf.distribute.Strategy]) -> tf.distribute.Strategy:
    """``join()``, a strategy that waits in its constructor for every worker of the cluster,
    ended after ``timeout_s`` with exit status 1 and the place it waited. The constructor
    holds Python's lock while it waits, so no Python thread can run then; faulthandler's
    watchdog is a thread of C that needs no lock (it prints its own words, so the line
    before it says what the wait is)."""
    print(f"python -m dcgan.tensorflow.train: worker {rank} of {size} joins the others of "
          f"TF_CONFIG; if one did not answer within {timeout_s:g} s (--worker-timeout), this "
          f"worker stops with exit status 1 and shows where it waited", file=sys.stderr,
          flush=True)
    faulthandler.dump_traceback_later(timeout_s, exit=True)
    try:
        return join()
    finally:
        faulthandler.cancel_dump_traceback_later()


def _join_workers(kind: str, timeout_s: float) -> Workers:
    """This process as the worker of ``TF_CONFIG``'s task in a ``MultiWorkerMirroredStrategy``
    whose cluster has ``worker`` tasks only (worker 0 is the chief)."""
    try:
        json.loads(os.environ["TF_CONFIG"])
    except ValueError as err:
        raise ValueError(f"TF_CONFIG is not JSON ({err}); it names the cluster's workers and "
                         f"this process's place, as in {_TF_CONFIG_EXAMPLE}") from err
    resolver = tf.distribute.cluster_resolver.TFConfigClusterResolver()
    jobs = resolver.cluster_spec().as_dict()
    if set(jobs) != {"worker"} or resolver.task_type != "worker":
        raise ValueError(f"TF_CONFIG: a data-parallel run has 'worker' tasks only (worker 0 "
                         f"writes the run folder), got the jobs {sorted(jobs)} and the task "
                         f"{resolver.task_type!r}; for example {_TF_CONFIG_EXAMPLE}")
    rank, size = resolver.task_id, len(jobs["worker"])
    implementation = tf.distribute.experimental.CommunicationImplementation
    options = tf.distribute.experimental.CommunicationOptions(
        implementation=implementation.NCCL if kind == "GPU" else implementation.RING,
        timeout_seconds=timeout_s)
    strategy = _bounded_join(rank, size, timeout_s,
                             lambda: tf.distribute.MultiWorkerMirroredStrategy(
                                 cluster_resolver=resolver, communication_options=options))
    tf.distribute.experimental_set_strategy(strategy)
    workers = Workers(rank, size, timeout_s, devices=strategy.num_replicas_in_sync // size)

    def summed(value: float) -> float:  # over every replica of every worker
        on_replicas = strategy.experimental_distribute_values_from_function(
            lambda context: tf.constant(value))
        return float(strategy.reduce(tf.distribute.ReduceOp.SUM, on_replicas, axis=None))

    def any_of(flag: bool) -> bool:
        return summed(float(flag)) > 0

    return dataclasses.replace(
        workers, any_of=reporting_lost_workers(any_of, workers, _failed_collective))


def train(net_D: keras.Model, net_G: keras.Model, data_iter: Iterable, num_epochs: int,
          lr: float, latent_dim: int, device: str | None = None, *,
          config: Config | None = None, run: RunFolder | None = None,
          resume: Checkpoint | None = None,
          workers: Workers | None = None) -> list[EpochMetrics]:
    """The chapter's ``train``: initialise, then alternate ``update_D`` and ``update_G``
    on every batch; see ``dcgan.backend.Backend.train``.

    The optimizers and the compiled step are made inside ``tf.device(device)``."""
    return train_chapter(HOOKS, net_D, net_G, data_iter, num_epochs, lr, latent_dim, device,
                         config=config, run=run, resume=resume, workers=workers)


HOOKS = TrainHooks(
    layout=LAYOUT, make_loss=make_loss, make_trainers=make_trainers, make_step=make_step,
    to_canonical=to_canonical, from_canonical=from_canonical, trainer_state=trainer_state,
    load_trainer_state=load_trainer_state, as_tensor=as_tensor, generate=generate,
    resolve_device=resolve_device, to_device=to_device, use_precision=use_precision,
    device_scope=tf.device)
"""This framework's pieces of the shared body of ``train`` (``dcgan.training``)."""


def main(argv: list[str] | None = None) -> int:
    """``python -m dcgan.tensorflow.train``; see ``--help``."""
    return cli.main(NAME, argv)


if __name__ == "__main__":
    sys.exit(main())
