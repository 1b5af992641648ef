"""One worker of the data-parallel equivalence test (tests/test_distributed.py).

    torchrun --nproc-per-node 2 tests/data_parallel_steps.py torch OUT --steps 10
    DCGAN_CPU_DEVICES=2 python tests/data_parallel_steps.py jax OUT --steps 10
    DCGAN_CPU_DEVICES=2 python tests/data_parallel_steps.py mxnet OUT --steps 10

Each worker starts from the seed-0 canonical weights, takes its part
(``Workers.part``) of the same global batches and noise as the one-worker run
of the test, runs the backend's data-parallel ``make_step`` with the parity
tests' Adam epsilon, and writes ``OUT/rank<r>.npz``: the global losses of every
step, the canonical weights after the first and the last step, and the number of
devices the worker trained on.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from conftest import nets_from  # noqa: E402
from test_parity import PARITY_ADAM_EPSILON, step_inputs  # noqa: E402

from dcgan import backend as backends  # noqa: E402
from dcgan.shapes import array_in_layout  # noqa: E402

FIRST_INPUTS = 200
"""``step_inputs(FIRST_INPUTS + step)`` are the batch and noise of each step (0-based)."""


def weights_of(backend, net_D, net_G) -> dict[str, np.ndarray]:
    """Both nets' canonical arrays, flat: ``net_D/<name>``, ``net_G/<name>``."""
    return {f"{net}/{name}": array
            for net, model in (("net_D", net_D), ("net_G", net_G))
            for name, array in backend.to_canonical(model).items()}


def run_steps(backend, workers, steps: int, batch_size: int
              ) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, np.ndarray]]:
    """``steps`` steps of ``batch_size`` (global) on this worker: the global losses of each
    step, and the weights after the first and after the last."""
    net_D, net_G = nets_from(backend)
    trainer_D, trainer_G = backend.make_trainers(net_D, net_G, lr=0.005,
                                                 epsilon=PARITY_ADAM_EPSILON)
    step = backend.make_step(net_D, net_G, backend.make_loss(), trainer_D, trainer_G, 100,
                             workers=workers)
    losses, first = [], {}
    for i in range(steps):
        X, Z = step_inputs(FIRST_INPUTS + i, batch_size)
        part = workers.part(batch_size)
        losses.append([float(v) for v in step(
            backend.as_tensor(array_in_layout(X[part], backend.LAYOUT)),
            backend.as_tensor(array_in_layout(Z[part], backend.LAYOUT)))])
        if i == 0:
            first = weights_of(backend, net_D, net_G)
    return np.array(losses), first, weights_of(backend, net_D, net_G)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("backend", choices=backends.BACKENDS)
    parser.add_argument("out", type=Path)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=16)
    args = parser.parse_args()
    backend = backends.load(args.backend)
    workers = backend.start_workers("cpu", timeout_s=120)
    try:
        losses, first, last = run_steps(backend, workers, args.steps, args.batch_size)
    finally:
        workers.close()
    np.savez(args.out / f"rank{workers.rank}.npz", losses=losses, devices=workers.devices,
             **{f"first/{k}": v for k, v in first.items()},
             **{f"last/{k}": v for k, v in last.items()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
