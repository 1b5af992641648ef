"""Start W local worker processes of an MXNet data-parallel command with the ``dist_sync``
kvstore, and the scheduler and server they need: the processes that MXNet's own launcher
starts (``python -m mxnet.tools.launch -n W -s 1 --launcher local ...``), but this one also
stops the scheduler and the server when the workers have ended, however they ended.

    python tests/mx_workers.py 2 -m dcgan.mxnet.train --distributed ...

Every process runs the same command with its ``DMLC_ROLE``; for the scheduler and the
server, importing MXNet runs that role. A Ctrl-C reaches the workers (the same process
group) and this waits for them. The exit status is the first worker's that failed, else 0.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from tf_workers import free_ports


def ps_environment(workers: int, port: int, role: str) -> dict[str, str]:
    """What ps-lite reads: the scheduler's address, how many of each role, this one's."""
    return {"DMLC_PS_ROOT_URI": "127.0.0.1", "DMLC_PS_ROOT_PORT": str(port),
            "DMLC_NUM_SERVER": "1", "DMLC_NUM_WORKER": str(workers), "DMLC_ROLE": role}


def main() -> int:
    workers, command = int(sys.argv[1]), sys.argv[2:]
    signal.signal(signal.SIGINT, lambda signum, frame: None)  # as tests/tf_workers.py
    port = free_ports(1)[0]

    def start(role: str) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, *command],
                                env={**os.environ, **ps_environment(workers, port, role)})

    helpers = [start("scheduler"), start("server")]
    try:
        statuses = [process.wait() for process in [start("worker") for _ in range(workers)]]
    finally:
        for helper in helpers:
            helper.kill()
            helper.wait()
    return next((status for status in statuses if status), 0)


if __name__ == "__main__":
    sys.exit(main())
