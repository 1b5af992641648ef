"""Drawing samples with the jax backend: ``python -m dcgan.jax.sample``.

Beyond the chapter: its samples, and the DCGAN paper's pictures (``dcgan.latent``).

``--weights`` takes a run folder or a canonical weights file written by any
backend; see ``--help``.
"""

from __future__ import annotations

import sys

from dcgan import cli
from dcgan.jax import NAME


def main(argv: list[str] | None = None) -> int:
    """``python -m dcgan.jax.sample``; see ``--help``."""
    return cli.sample_main(NAME, argv)


if __name__ == "__main__":
    sys.exit(main())
