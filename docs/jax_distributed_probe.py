"""What JAX's multi-process runtime (``jax.distributed``) does on this machine's CPU,
measured (README, issue 20).

    python docs/jax_distributed_probe.py

Starts two JAX processes on 127.0.0.1 that join with ``jax.distributed.initialize``
(process 0 hosts the coordination service) and all-reduce over Gloo, JAX's CPU
collectives. It then checks three things that data-parallel training needs:

1. a batch split over the two processes (``jax.make_array_from_process_local_data``)
   and summed by one compiled function gives both processes the whole batch's sum;
2. when one process dies after the first exchange, the other one stops with an error
   that Python can catch and report, rather than hanging or aborting;
3. a process whose peer never starts stops with such an error once the join's
   timeout has passed.

Each check gets ``--limit`` seconds; every process is killed at the end. The script
prints one line per check and exits 0 whatever the answers are: it reports them, and
does not judge them.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import time

JOIN_TIMEOUT_S = 10
"""How long a process waits for its peer to join (``initialization_timeout``)."""
HEARTBEAT_TIMEOUT_S = 5
"""How long the coordination service waits for a silent process's heartbeat."""


def process(rank: int, port: int, die_after_first: bool) -> None:
    """One process: join, then sum a batch whose rows hold rank + 1 over both processes,
    twice, unless the process of rank 1 dies after the first sum. Every outcome is
    printed, a Python exception included."""
    import jax

    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    began = time.monotonic()
    try:
        jax.distributed.initialize(f"127.0.0.1:{port}", num_processes=2, process_id=rank,
                                   initialization_timeout=JOIN_TIMEOUT_S,
                                   heartbeat_timeout_seconds=HEARTBEAT_TIMEOUT_S)
    except Exception as err:  # noqa: BLE001 (reported, which is the point)
        print(f"join raised {type(err).__name__} after {time.monotonic() - began:.0f}s",
              flush=True)
        return
    import numpy as np
    from jax.sharding import Mesh, NamedSharding, PartitionSpec

    mesh = Mesh(np.array(jax.devices()), ("batch",))
    rows = NamedSharding(mesh, PartitionSpec("batch"))
    total = jax.jit(lambda x: x.sum(), out_shardings=NamedSharding(mesh, PartitionSpec()))
    for exchange in ("first", "second"):
        began = time.monotonic()
        try:
            batch = jax.make_array_from_process_local_data(
                rows, np.full((2, 3), rank + 1.0, np.float32))
            print(f"rank {rank}, {exchange} {float(total(batch)):g}", flush=True)
        except Exception as err:  # noqa: BLE001
            print(f"rank {rank}, {exchange} raised {type(err).__name__} after "
                  f"{time.monotonic() - began:.1f}s: {str(err).splitlines()[0][:130]}",
                  flush=True)
            return
        if die_after_first and rank == 1:
            import os

            os._exit(1)
        time.sleep(1)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_group(ranks: tuple[int, ...], die_after_first: bool, limit_s: float
              ) -> list[tuple[int | None, str]]:
    """Start the processes of ``ranks`` (of two); each one's exit status (None when it was
    still running after ``limit_s``) and output."""
    command = [sys.executable, __file__, "--port", str(free_port()), "--rank"]
    extra = ["--die-after-first"] if die_after_first else []
    started = [subprocess.Popen([*command, str(rank), *extra], text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
               for rank in ranks]
    deadline = time.monotonic() + limit_s
    try:
        while time.monotonic() < deadline and any(p.poll() is None for p in started):
            time.sleep(0.2)
        codes = [p.poll() for p in started]
    finally:
        for p in started:
            p.kill()
    return [(code, p.communicate()[0].strip().replace("\n", ", ")) for code, p in
            zip(codes, started)]


def describe(results: list[tuple[int | None, str]], limit_s: float) -> str:
    """The processes' outcomes in words; exit status 134 is an abort (SIGABRT), which is
    how the coordination service stops a process it finds in error."""
    def outcome(code: int | None) -> str:
        if code is None:
            return f"still running after {limit_s:g}s"
        return f"exit {code}" + (" (aborted)" if code in (134, -6) else "")

    return "; ".join(f"{output or 'no output'}: {outcome(code)}" for code, output in results)


def main() -> int:
    """Run the three checks and print what happened."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=float, default=60.0, help="seconds per check")
    parser.add_argument("--rank", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--die-after-first", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rank is not None:
        process(args.rank, args.port, args.die_after_first)
        return 0
    import jax

    print(f"jax {jax.__version__}, CPU collectives over Gloo")
    print("1. two processes sum a batch of rows 1 and 2, twice:",
          describe(run_group((0, 1), False, args.limit), args.limit))
    print("2. the process of rank 1 dies after the first sum:",
          describe(run_group((0, 1), True, args.limit), args.limit))
    print("3. the process of rank 0 alone:",
          describe(run_group((0,), False, args.limit), args.limit))
    return 0


if __name__ == "__main__":
    sys.exit(main())
