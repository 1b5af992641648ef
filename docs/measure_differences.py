"""Measure the effect of each place where the book's three tabs differ.

    pip install -e ".[all]" && python docs/measure_differences.py

Prints the numbers quoted in docs/framework-differences.md. Short runs use the
PyTorch backend with one tab's choice switched in (each switch reproduces that
tab's semantics exactly: a learning rate, an initialisation, a loss reduction,
BatchNorm in inference mode, ...); the Adam comparison uses Keras's own
optimizer. Takes about ten minutes on two CPU cores.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from dcgan.backend import load
from dcgan.datasets import sprites
from dcgan.loop import fixed_noise
from dcgan.shapes import array_in_layout
from dcgan.weights import init_weights


def short_run(tb, folder, *, steps_per_epoch_note="", lr=0.005, epochs=3, batch_size=64,
              bn_gamma_one=False, mean_loss=False, bn_inference_in_updates=False,
              no_bn_on_d_input=False, keras_bn_constants=False, seed=0):
    """Train the chapter's nets with one tab's choice switched in; return a summary."""
    import torch
    from torch import nn

    tb.set_seed(seed)
    net_D, net_G = tb.net_D(), tb.net_G()
    weights = init_weights(seed)
    if bn_gamma_one:  # MXNet tab: init.Normal(0.02) leaves gamma = 1, beta = 0
        for arrays in weights.values():
            for name in arrays:
                if name.endswith("gamma"):
                    arrays[name] = np.ones_like(arrays[name])
                elif name.endswith("beta"):
                    arrays[name] = np.zeros_like(arrays[name])
    tb.from_canonical(net_D, weights["net_D"])
    tb.from_canonical(net_G, weights["net_G"])
    if no_bn_on_d_input:  # the chapter's summary, not its code
        net_D[0].batch_norm = nn.Identity()
    if keras_bn_constants:  # Keras defaults: epsilon 1e-3, momentum 0.99 (0.01 in torch terms)
        for m in list(net_D.modules()) + list(net_G.modules()):
            if isinstance(m, nn.BatchNorm2d):
                m.eps, m.momentum = 1e-3, 0.01
    loss = nn.BCEWithLogitsLoss(reduction="mean" if mean_loss else "sum")
    trainer_D, trainer_G = tb.make_trainers(net_D, net_G, lr)
    data = tb.load_data(folder, batch_size, seed=seed)
    history = []
    start = time.perf_counter()
    for epoch in range(epochs):
        total_D = total_G = n = 0.0
        for X, _ in data:
            Z = torch.normal(0, 1, size=(X.shape[0], 100, 1, 1))
            if bn_inference_in_updates:  # TF tab: nets called without training=True
                net_D.eval(), net_G.eval()
            scale = X.shape[0] if mean_loss else 1  # report on the summed scale
            total_D += tb.update_D(X, Z, net_D, net_G, loss, trainer_D) * scale
            total_G += tb.update_G(Z, net_D, net_G, loss, trainer_G) * scale
            n += X.shape[0]
        history.append((total_D / n, total_G / n))
    Z = tb.as_tensor(fixed_noise(seed, 100, "NCHW"))
    inference = tb.forward(net_G, Z, training=False).numpy()
    batch_stats = tb.forward(net_G, Z, training=True).numpy()
    return {"loss_D": history[-1][0], "loss_G": history[-1][1],
            "sample_spread": float(inference.std(axis=0).mean()),
            "train_vs_inference_samples": float(np.abs(inference - batch_stats).mean()),
            "seconds": time.perf_counter() - start}


def adam_first_step_mismatches(epsilon_variant: str) -> tuple[int, int]:
    """Entries (of all learned weights) that one step moves differently, by more than 1e-4,
    in PyTorch and in TensorFlow with the given Adam (``stock``: Keras's own, eps 1e-8;
    ``stock-default-eps``: Keras's own with its default 1e-7; ``ours``)."""
    tb, tfb = load("torch"), load("tensorflow")
    import keras  # after dcgan.tensorflow, which must load first (see its docstring)

    weights = init_weights(0)
    rng = np.random.default_rng(100)
    X = rng.uniform(-1, 1, (8, 3, 64, 64)).astype(np.float32)
    Z = rng.standard_normal((8, 100, 1, 1)).astype(np.float32)
    after = []
    for b in (tb, tfb):
        net_D, net_G = b.net_D(), b.net_G()
        b.from_canonical(net_D, weights["net_D"])
        b.from_canonical(net_G, weights["net_G"])
        trainer_D, trainer_G = b.make_trainers(net_D, net_G, 0.005)
        if b is tfb and epsilon_variant != "ours":
            eps = 1e-7 if epsilon_variant == "stock-default-eps" else 1e-8
            trainer_D, trainer_G = (keras.optimizers.Adam(0.005, 0.5, 0.999, epsilon=eps)
                                    for _ in range(2))
        x = b.as_tensor(array_in_layout(X, b.LAYOUT))
        z = b.as_tensor(array_in_layout(Z, b.LAYOUT))
        b.update_D(x, z, net_D, net_G, b.make_loss(), trainer_D)
        b.update_G(z, net_D, net_G, b.make_loss(), trainer_G)
        after.append({**b.to_canonical(net_D), **{"G" + k: v for k, v in
                                                  b.to_canonical(net_G).items()}})
    keys = [k for k in after[0] if "running" not in k]
    return (sum(int((np.abs(after[0][k] - after[1][k]) > 1e-4).sum()) for k in keys),
            sum(after[0][k].size for k in keys))


def _torch_nets(weights: dict, dtype) -> tuple:
    """PyTorch's net_D and net_G holding canonical ``weights``, in ``dtype``. The updates
    compute the logits' loss in float32 whatever the nets' dtype (for mixed precision), so
    a float64 run is float64 up to the logits: the floors below are slightly low."""
    tb = load("torch")
    net_D, net_G = tb.net_D(), tb.net_G()
    tb.from_canonical(net_D, weights["net_D"])
    tb.from_canonical(net_G, weights["net_G"])
    return net_D.to(dtype), net_G.to(dtype)


def float32_against_float64_first_step() -> tuple[int, int]:
    """Entries that one Adam step (eps 1e-8) moves differently, by more than 1e-4, in
    PyTorch float32 and PyTorch float64: the noise floor of a one-step comparison."""
    import torch

    tb = load("torch")
    weights = init_weights(0)
    rng = np.random.default_rng(100)
    X = rng.uniform(-1, 1, (8, 3, 64, 64)).astype(np.float32)
    Z = rng.standard_normal((8, 100, 1, 1)).astype(np.float32)
    after = []
    for dtype in (torch.float32, torch.float64):
        net_D, net_G = _torch_nets(weights, dtype)
        trainer_D, trainer_G = tb.make_trainers(net_D, net_G, 0.005)
        x, z = torch.from_numpy(X).to(dtype), torch.from_numpy(Z).to(dtype)
        tb.update_D(x, z, net_D, net_G, tb.make_loss(), trainer_D)
        tb.update_G(z, net_D, net_G, tb.make_loss(), trainer_G)
        after.append({**tb.to_canonical(net_D.float()),
                      **{"G" + k: v for k, v in tb.to_canonical(net_G.float()).items()}})
    keys = [k for k in after[0] if "running" not in k]
    return (sum(int((np.abs(after[0][k] - after[1][k]) > 1e-4).sum()) for k in keys),
            sum(after[0][k].size for k in keys))


def float32_against_float64_ten_steps() -> list[float]:
    """The relative loss drift after each of the ten steps of the parity test
    (``test_ten_steps_stay_within_the_documented_drift``: its batches, noise and Adam
    epsilon 1) between PyTorch float32 and PyTorch float64: the ten-step noise floor."""
    import torch

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from test_parity import PARITY_ADAM_EPSILON, step_inputs

    tb = load("torch")
    runs = []
    for dtype in (torch.float32, torch.float64):
        net_D, net_G = _torch_nets(init_weights(0), dtype)
        runs.append((dtype, net_D, net_G,
                     *tb.make_trainers(net_D, net_G, 0.005, epsilon=PARITY_ADAM_EPSILON)))
    drift = []
    for step in range(10):
        X, Z = step_inputs(200 + step)
        losses = []
        for dtype, net_D, net_G, trainer_D, trainer_G in runs:
            x = torch.from_numpy(X).to(dtype)  # step_inputs are NCHW, as PyTorch
            z = torch.from_numpy(Z).to(dtype)
            losses.append((tb.update_D(x, z, net_D, net_G, tb.make_loss(), trainer_D),
                           tb.update_G(z, net_D, net_G, tb.make_loss(), trainer_G)))
        single, double = np.array(losses[0]), np.array(losses[1])
        drift.append(float(np.max(np.abs(single - double) / np.abs(double))))
    return drift


VARIANTS = {
    "this project (PyTorch tab's choices)": {},
    "TensorFlow tab's learning rate 0.0005": {"lr": 0.0005},
    "MXNet tab's init (BatchNorm gamma 1, beta 0)": {"bn_gamma_one": True},
    "MXNet tab's loss scale (mean; gradient / batch size)": {"mean_loss": True},
    "TensorFlow tab's BatchNorm mode (inference in the updates)": {
        "bn_inference_in_updates": True},
    "Keras's BatchNorm defaults (eps 1e-3, momentum 0.99)": {"keras_bn_constants": True},
    "the summary's net_D (no BatchNorm on the input block)": {"no_bn_on_d_input": True},
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1024)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args(argv)
    print("One Adam step from the same weights and batch, entries differing by > 1e-4:")
    for variant in ("stock-default-eps", "stock", "ours"):
        bad, total = adam_first_step_mismatches(variant)
        print(f"  PyTorch vs TensorFlow with {variant:18s} Adam: {bad:8d} of {total}")
    bad, total = float32_against_float64_first_step()
    print(f"  PyTorch float32 vs PyTorch float64:             {bad:8d} of {total}")
    print("\nThe parity test's ten steps (Adam eps 1), PyTorch float32 vs float64, relative "
          "loss drift by step:\n  " + " ".join(f"{d:.1e}" for d in
                                          float32_against_float64_ten_steps()))
    sys.stdout.flush()
    tb = load("torch")
    with tempfile.TemporaryDirectory() as root:
        folder = sprites(root, count=args.images)
        print(f"\nShort runs: sprites, {args.images} images, batch 64, {args.epochs} epochs, "
              f"seed 0, PyTorch on the CPU; losses per example in the last epoch")
        print(f"  {'variant':60s} {'loss_D':>7s} {'loss_G':>7s} {'spread':>7s} "
              f"{'|train-inf|':>11s}")
        for name, options in VARIANTS.items():
            r = short_run(tb, folder, epochs=args.epochs, **options)
            print(f"  {name:60s} {r['loss_D']:7.3f} {r['loss_G']:7.3f} "
                  f"{r['sample_spread']:7.3f} {r['train_vs_inference_samples']:11.3f}")
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
