"""Mixed precision against fp32 on a short run: the same quality band, and the speed.

    pip install -e ".[all]" && python docs/precision_study.py

Trains each backend at each precision it can run on the CPU (``--precision``)
on the same short job (the sprites, 512 images, one epoch of batch 64 = 8 steps,
seed 0, PyTorch's DCGAN example's calm settings: ``--preset paper --bn-init one``,
lr 0.0002; at the chapter's lr 0.005 with scale 1 the losses swing by tens in the
first steps, and any two runs differ by more than their arithmetic),
with the quality measured at its end (500 samples); ``--longer``: 64 steps
at lr 0.001 (2,048 images, two epochs), long enough for shapes, JAX only by
default (its bf16 step runs at 0.9x of fp32 here, PyTorch's and
TensorFlow's at 0.03x to 0.17x), and prints one
table row per run: the losses, the metrics of ``dcgan.quality`` beside those of
held-out real images (the noise floor), and examples/second. A run whose folder
already holds weights is not trained again (``--runs``, default
``runs/precision-study``). The figures in README.md's "Precision" section come
from this script.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

CASES = {"torch": ("fp32", "bf16", "fp16"), "tensorflow": ("fp32", "bf16", "fp16"),
         "jax": ("fp32", "bf16")}
"""The backends and the precisions each runs on the CPU (MXNet runs only fp32)."""

JOB = ["--dataset", "sprites", "--num-images", "512", "--preset", "paper", "--batch-size", "64",
       "--epochs", "1", "--seed", "0", "--bn-init", "one", "--eval-every", "1", "--device", "cpu"]

LONGER_JOB = ["--dataset", "sprites", "--num-images", "2048", "--lr", "0.001", "--batch-size",
              "64", "--epochs", "2", "--seed", "0", "--bn-init", "one", "--eval-every", "2",
              "--device", "cpu"]
"""``--longer``: 64 steps at lr 0.001, where shapes appear (docs/demo-study.md), for the
backends whose 16-bit step is not slower than fp32 on the CPU here (JAX)."""


def train(backend: str, precision: str, runs: Path, job: list[str] = JOB) -> Path:
    """One run of ``job`` at ``precision``; its folder."""
    out = runs / f"{backend}-{precision}"
    if not (out / "weights.safetensors").exists():
        subprocess.run([sys.executable, "-m", f"dcgan.{backend}.train", *job,
                        "--precision", precision, "--out", str(out)], check=True)
    return out


def row(backend: str, precision: str, run: Path) -> str:
    """The table row of a finished run."""
    lines = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    last, quality = lines[-1], lines[-1]["quality"]
    speed = sum(m["examples"] for m in lines) / sum(m["seconds"] for m in lines)
    real = quality["noise_floor"]
    return (f"| {backend} | {precision} | {last['loss_D']:.2f} / {last['loss_G']:.2f} | "
            f"{quality['swd_average']:.0f} ({real['swd_average']:.0f}) | "
            f"{quality['fd']:.0f} ({real['fd']:.0f}) | "
            f"{quality['precision']:.2f} ({real['precision']:.2f}) | "
            f"{quality['recall']:.2f} ({real['recall']:.2f}) | "
            f"{quality['classes_covered']}/{quality['classes_present']} | {speed:.1f} |")


def main(argv: list[str] | None = None) -> int:
    """Train every case not yet trained and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=Path, default=None,
                        help="(default: runs/precision-study, or runs/precision-study-longer)")
    parser.add_argument("--backends", default=None,
                        help=f"(default: {','.join(CASES)}; with --longer: jax)")
    parser.add_argument("--longer", action="store_true",
                        help="the 64-step job at lr 0.001 instead of the 8-step one")
    args = parser.parse_args(argv)
    job = LONGER_JOB if args.longer else JOB
    runs = args.runs or Path("runs/precision-study" + ("-longer" if args.longer else ""))
    backends = (args.backends or ("jax" if args.longer else ",".join(CASES))).split(",")
    rows = [row(name, precision, train(name, precision, runs, job))
            for name in backends for precision in CASES[name]]
    print("| backend | precision | loss_D / loss_G | SWD ×10³ (real) | FD (real) | "
          "precision (real) | recall (real) | classes | examples/s |")
    print("|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
