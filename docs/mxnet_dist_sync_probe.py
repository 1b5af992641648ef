"""What MXNet 1.9.1's ``dist_sync`` kvstore does on this machine, measured (README, issue 20).

    python docs/mxnet_dist_sync_probe.py

Starts ps-lite's four processes on 127.0.0.1, as MXNet's ``tools/launch.py --launcher
local`` would: a scheduler, a server and two workers. It then checks two things that
data-parallel training needs:

1. the two workers' pushes to one key are summed, which is what a gradient all-reduce
   needs;
2. when one worker dies after the first exchange, the other one stops with an error
   rather than waiting for ever. The issue asks for this ("a timeout on the
   collective").

Each worker gets ``--limit`` seconds; every process is killed at the end. The script
prints one line per check and exits 0 whatever the answers are: it reports them, and
does not judge them.
"""

from __future__ import annotations

import argparse
import importlib
import os
import socket
import subprocess
import sys
import time

KEY = 3
"""The kvstore key that the workers push to and pull from."""


def import_mxnet():
    """MXNet, imported through the package (which restores the ``numpy.bool`` that MXNet
    1.9.1 needs). With ``DMLC_ROLE`` set to scheduler or server, the import itself runs that
    role and exits."""
    import dcgan.mxnet  # noqa: F401

    return importlib.import_module("mxnet")


def worker(die_after_first: bool) -> None:
    """One worker: push rank + 1 and pull the sum, then, unless it dies, do it again."""
    mx = import_mxnet()
    kv = mx.kv.create("dist_sync")
    kv.init(KEY, mx.nd.zeros((4,)))
    out = mx.nd.zeros((4,))
    kv.push(KEY, mx.nd.ones((4,)) * (kv.rank + 1))
    kv.pull(KEY, out=out)
    print(f"rank {kv.rank}, first {out.asnumpy()[0]:g}", flush=True)
    if die_after_first and kv.rank == 1:
        os._exit(1)
    kv.push(KEY, mx.nd.ones((4,)))
    kv.pull(KEY, out=out)
    print(f"second {out.asnumpy()[0]:g}", flush=True)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_group(die_after_first: bool, limit_s: float) -> list[tuple[int | None, str]]:
    """Start the scheduler, the server and two workers; each worker's exit status (None
    when it was still running after ``limit_s``) and output."""
    env = {**os.environ, "DMLC_PS_ROOT_URI": "127.0.0.1", "DMLC_PS_ROOT_PORT": str(free_port()),
           "DMLC_NUM_SERVER": "1", "DMLC_NUM_WORKER": "2"}
    command = [sys.executable, __file__, "--role"]
    if die_after_first:
        command.append("--die-after-first")

    def start(role: str) -> subprocess.Popen:
        return subprocess.Popen(command, env={**env, "DMLC_ROLE": role}, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    group = [start("scheduler"), start("server")]
    workers = [start("worker"), start("worker")]
    group += workers
    deadline = time.monotonic() + limit_s
    try:
        while time.monotonic() < deadline and any(w.poll() is None for w in workers):
            time.sleep(0.2)
        codes = [w.poll() for w in workers]
    finally:
        for process in group:
            process.kill()
    return [(code, w.communicate()[0].strip().replace("\n", ", ")) for code, w in
            zip(codes, workers)]


def describe(results: list[tuple[int | None, str]], limit_s: float) -> str:
    """The workers' outcomes in words."""
    def outcome(code: int | None) -> str:
        return f"still waiting after {limit_s:g}s" if code is None else f"exit {code}"

    return "; ".join(f"{output or 'no output'}: {outcome(code)}" for code, output in results)


def main() -> int:
    """Run both checks and print what happened."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=float, default=60.0, help="seconds per check")
    parser.add_argument("--role", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--die-after-first", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role:
        if os.environ["DMLC_ROLE"] == "worker":
            worker(args.die_after_first)
        else:
            import_mxnet()
        return 0
    print("1. two workers push 1 and 2 to one key, twice:",
          describe(run_group(False, args.limit), args.limit))
    print("2. the worker of rank 1 dies after the first exchange:",
          describe(run_group(True, args.limit), args.limit))
    return 0


if __name__ == "__main__":
    sys.exit(main())
