"""The arithmetic a run uses, ``--precision`` of every command: the names, written once.

- ``fp32``: float32 everywhere, TF32 off: the parity tests' arithmetic.
- ``tf32``: float32 storage, convolutions and matrix products on a GPU's
  TensorFloat-32 units (10-bit mantissa inputs, float32 sums); on a CPU the
  same as fp32, so it is refused there.
- ``bf16`` / ``fp16``: mixed precision, each framework's own machinery
  (PyTorch autocast, Keras ``mixed_bfloat16`` / ``mixed_float16`` policies,
  Flax layers' computation dtype): the weights, BatchNorm and the losses stay
  in float32, convolutions run in 16 bits. fp16's narrow range needs loss
  scaling (GradScaler, Keras' LossScaleOptimizer).
- ``auto``: fp32 on a CPU, tf32 on a GPU. On a GPU tf32 keeps float32
  weights and numbers within about 1e-3 of fp32, and at the chapter's batch of
  256 it is as fast as bf16 (H100, PyTorch: 20.1k against 19.5k examples/s,
  issue 19's table); bf16 pays off only at batch 1,024 and above, where a user
  asks for it.
"""

from __future__ import annotations

PRECISIONS = ("auto", "fp32", "tf32", "bf16", "fp16")
"""The choices of ``--precision``."""

CPU_PRECISIONS = ("fp32", "bf16", "fp16")
"""The precisions a CPU can run (it has no TF32), which the CPU-only commands offer."""


def resolve_precision(choice: str, on_gpu: bool) -> str:
    """The precision ``choice`` stands for on a GPU (``on_gpu``) or a CPU: ``auto`` becomes
    fp32 on a CPU and tf32 on a GPU; tf32 on a CPU is refused (it has no TF32 units)."""
    if choice not in PRECISIONS:
        raise ValueError(f"unknown precision {choice!r}; choose one of {', '.join(PRECISIONS)}")
    if choice == "auto":
        return "tf32" if on_gpu else "fp32"
    if choice == "tf32" and not on_gpu:
        raise ValueError("--precision tf32: TensorFloat-32 is a GPU's arithmetic and this run "
                         "is on the CPU; use --precision fp32 (the same numbers there)")
    return choice


def unsupported(backend: str, precision: str, where: str, why: str) -> ValueError:
    """The error for a precision a backend cannot run ``where`` (``"on the CPU"``), naming
    the option and what to use instead."""
    return ValueError(f"--precision {precision}: the {backend} backend cannot run it {where} "
                      f"({why}); use --precision fp32")
