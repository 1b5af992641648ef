"""Start W local worker processes of a TensorFlow data-parallel command, as ``torchrun``
does for PyTorch: TensorFlow ships no launcher, its workers find each other through
``TF_CONFIG`` (the cluster's addresses and each process's task), which this sets.

    python tests/tf_workers.py 2 -m dcgan.tensorflow.train --distributed ...

Each worker gets a free local port; a Ctrl-C reaches the workers (the same process group)
and this waits for them. The exit status is the first worker's that failed, else 0.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys


def free_ports(count: int) -> list[int]:
    """``count`` distinct ports nothing listens on now."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def tf_config(ports: list[int], index: int) -> str:
    """``TF_CONFIG`` of worker ``index`` of a cluster of local workers on ``ports``."""
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    return json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})


def main() -> int:
    workers, command = int(sys.argv[1]), sys.argv[2:]
    # The workers stop themselves on a Ctrl-C and say so; this waits for them (a handler,
    # not SIG_IGN, which the workers would inherit).
    signal.signal(signal.SIGINT, lambda signum, frame: None)
    ports = free_ports(workers)
    processes = [subprocess.Popen([sys.executable, *command],
                                  env={**os.environ, "TF_CONFIG": tf_config(ports, index)})
                 for index in range(workers)]
    statuses = [process.wait() for process in processes]
    return next((status for status in statuses if status), 0)


if __name__ == "__main__":
    sys.exit(main())
