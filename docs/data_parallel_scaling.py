"""Data-parallel scaling on this machine: examples/s of the training command at W = 1 and 2.

    python docs/data_parallel_scaling.py                # the table in the README
    python docs/data_parallel_scaling.py --workers 1 2 4 --device gpu --batch-size 256

Runs ``python -m dcgan.<backend>.train --distributed`` for each backend that trains
data-parallel (``dcgan.distributed.DATA_PARALLEL_BACKENDS``) and each W: PyTorch as W
``torchrun`` workers, TensorFlow, JAX and MXNet as one process over W devices (on the CPU, the
W devices that ``DCGAN_CPU_DEVICES`` makes), and TensorFlow and MXNet again as W processes
(``tensorflow-processes``: joined by ``TF_CONFIG``, started by tests/tf_workers.py;
``mxnet-processes``: joined by the ``dist_sync`` kvstore, started with a scheduler and a
server by tests/mx_workers.py). Each run
trains the sprites at the chapter's batch
for ``--epochs`` (2 by default) and reports the last epoch's examples per second (the
first includes compilation), as ``metrics.jsonl`` records it. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from dcgan import backend as backends
from dcgan.distributed import CPU_DEVICES_ENV, DATA_PARALLEL_BACKENDS

TESTS = Path(__file__).resolve().parents[1] / "tests"
PROCESSES = {"tensorflow-processes": ("tensorflow", TESTS / "tf_workers.py"),
             "mxnet-processes": ("mxnet", TESTS / "mx_workers.py")}
"""The rows of workers as processes: their backend and the script that starts them
(TensorFlow's MultiWorkerMirroredStrategy, MXNet's dist_sync kvstore)."""


def command(backend: str, workers: int, out: Path, args: argparse.Namespace) -> list[str]:
    """The training command of ``workers`` workers, started the backend's way."""
    train = ["-m", f"dcgan.{backend}.train", "--distributed", "--dataset", "sprites",
             "--num-images", str(args.num_images), "--batch-size", str(args.batch_size),
             "--epochs", str(args.epochs), "--eval-every", "0", "--device", args.device,
             "--out", str(out)]
    if backend == "torch":
        return [sys.executable, "-m", "torch.distributed.run", "--standalone",
                "--nproc-per-node", str(workers), *train]
    if backend in PROCESSES:
        name, starter = PROCESSES[backend]
        train[1] = f"dcgan.{name}.train"
        return [sys.executable, str(starter), str(workers), *train]
    return [sys.executable, *train]


def examples_per_sec(backend: str, workers: int, args: argparse.Namespace) -> float:
    """The last epoch's examples/s of one run."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "run"
        env = {**os.environ}
        if backend != "torch" and backend not in PROCESSES and args.device == "cpu":
            env[CPU_DEVICES_ENV] = str(workers)
        subprocess.run(command(backend, workers, out, args), check=True, env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        last = (out / "metrics.jsonl").read_text().splitlines()[-1]
        return json.loads(last)["examples_per_sec"]


def main(argv: list[str] | None = None) -> int:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--device", choices=("cpu", "gpu"), default="cpu")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--num-images", type=int, default=1024)
    parser.add_argument("--epochs", type=int, default=2)
    installed = [b for b in DATA_PARALLEL_BACKENDS if backends.missing_reason(b) is None]
    parser.add_argument("--backends", nargs="+", choices=[*DATA_PARALLEL_BACKENDS, *PROCESSES],
                        default=installed + [row for row, (name, _) in PROCESSES.items()
                                             if name in installed])
    args = parser.parse_args(argv)
    print(f"| backend | {' | '.join(f'W = {w}' for w in args.workers)} |")
    print(f"|---|{'---|' * len(args.workers)}")
    for backend in args.backends:
        speeds = [examples_per_sec(backend, w, args) for w in args.workers]
        cells = [f"{s:.1f} ({s / speeds[0]:.2f}x)" for s in speeds]
        print(f"| {backend} | {' | '.join(cells)} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
