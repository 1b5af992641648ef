"""Cross-backend parity: from the same canonical weights and the same inputs (float32, CPU),
every pair of installed backends computes the same numbers.

Tolerances, stated once:

* ``TOLERANCE = 1e-4`` (absolute) for outputs and weights. Float32 rounding
  through the chapter's five convolutions (sums of up to 8192 products)
  leaves about 1e-6 relative on O(1) values; 1e-4 is far above that and far
  below any real difference (a wrong padding, epsilon or layout moves outputs
  by 1e-2 or more).
* Losses: relative difference at most ``TOLERANCE``.
* ``PARITY_ADAM_EPSILON = 1.0`` in the one-step test. Adam's first update is
  ``lr * g / (|g| + eps)``: with the chapter's eps of 1e-8 it is ``±lr`` for
  every gradient entry above 1e-8, so entries whose float32 gradient is
  rounding noise (BatchNorm's backward cancels, leaving the lower layers'
  gradients accurate to only 1e-3..1e-2 relative) move by ``±lr`` at random.
  That happens between PyTorch in float32 and PyTorch in float64 just as
  between frameworks (docs/framework-differences.md has the numbers). With
  eps = 1 the update is smooth in the gradient, so it compares the gradients
  themselves, and it is *more* sensitive to the things that must agree: the
  placement of epsilon (Keras and Gluon add it before the bias correction,
  which changes the first step 31-fold here) and the loss scale (a mean
  instead of a sum changes it by the batch size).
* Running statistics are compared where the frameworks' rules agree; see
  ``test_running_statistics_follow_each_frameworks_rule``.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from conftest import nets_from

from dcgan import backend as backends
from dcgan.shapes import array_in_layout, array_to_nchw
from dcgan.weights import init_weights, load_weights, save_weights

TOLERANCE = 1e-4
PARITY_ADAM_EPSILON = 1.0
# Twice the ten-step float32 noise floor: PyTorch float32 against float64 drifts by up to
# 9.5e-4 on these steps (docs/measure_differences.py), the frameworks' pairs up to 1.4e-3.
TEN_STEP_LOSS_TOLERANCE = 2e-3
TEN_STEP_WEIGHT_TOLERANCE = 5e-3

PAIRS = list(itertools.combinations(backends.BACKENDS, 2))


@pytest.fixture(params=PAIRS, ids=[f"{a}-{b}" for a, b in PAIRS], scope="module")
def pair(request, load_backend):
    return tuple(load_backend(name) for name in request.param)


def reference_weights(seed: int = 0) -> dict:
    """The chapter's N(0, 0.02) weights, with running statistics made non-trivial so that
    inference-mode comparisons test them too."""
    weights = init_weights(seed)
    rng = np.random.default_rng(seed + 1000)
    for arrays in weights.values():
        for name, a in arrays.items():
            if name.endswith("running_mean"):
                arrays[name] = rng.normal(0, 0.1, a.shape).astype(np.float32)
            elif name.endswith("running_var"):
                arrays[name] = rng.uniform(0.5, 1.5, a.shape).astype(np.float32)
    return weights


def as_backend(backend, array_nchw):
    return backend.as_tensor(array_in_layout(array_nchw, backend.LAYOUT))


def as_nchw(backend, tensor):
    return array_to_nchw(backend.as_numpy(tensor), backend.LAYOUT)


def max_weight_difference(a: dict, b: dict, learned_only: bool = False) -> tuple[float, str]:
    """The largest absolute difference between two canonical weight dicts, and where."""
    worst = (0.0, "")
    for net in a:
        for name in a[net]:
            if learned_only and "running" in name:
                continue
            d = float(np.abs(a[net][name] - b[net][name]).max())
            worst = max(worst, (d, f"{net}/{name}"))
    return worst


# The chapter's blocks inside the nets: layer index -> NCHW input shape.
BLOCK_INPUTS = {"net_G": {0: (4, 100, 1, 1), 1: (4, 512, 4, 4), 3: (4, 128, 16, 16)},
                "net_D": {0: (4, 3, 64, 64), 2: (4, 128, 16, 16)}}
BLOCK_CASES = [(net, i) for net, blocks in BLOCK_INPUTS.items() for i in blocks]


@pytest.mark.parametrize("training", [True, False], ids=["batch-stats", "running-stats"])
@pytest.mark.parametrize("net_name, index", BLOCK_CASES,
                         ids=[f"{n}[{i}]" for n, i in BLOCK_CASES])
@pytest.mark.several_frameworks
def test_each_block_gives_the_same_output(pair, net_name, index, training):
    weights = reference_weights()
    x = np.random.default_rng(index).uniform(-1, 1, BLOCK_INPUTS[net_name][index]).astype(
        np.float32)
    outputs = []
    for b in pair:
        net = dict(zip(("net_D", "net_G"), nets_from(b, weights)))[net_name]
        block = b.layers(net)[index]
        outputs.append(as_nchw(b, b.forward(block, as_backend(b, x), training=training)))
    assert np.abs(outputs[0] - outputs[1]).max() <= TOLERANCE


@pytest.mark.parametrize("training", [True, False], ids=["batch-stats", "running-stats"])
@pytest.mark.parametrize("net_name", ["net_G", "net_D"])
@pytest.mark.several_frameworks
def test_each_net_gives_the_same_output(pair, net_name, training):
    weights = reference_weights()
    shape = (8, 100, 1, 1) if net_name == "net_G" else (8, 3, 64, 64)
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    outputs = []
    for b in pair:
        net = dict(zip(("net_D", "net_G"), nets_from(b, weights)))[net_name]
        outputs.append(as_nchw(b, b.forward(net, as_backend(b, x), training=training)))
    assert outputs[0].shape == outputs[1].shape
    assert np.abs(outputs[0] - outputs[1]).max() <= TOLERANCE


def one_step(backend, weights, X, Z, epsilon):
    net_D, net_G = nets_from(backend, weights)
    trainer_D, trainer_G = backend.make_trainers(net_D, net_G, lr=0.005, epsilon=epsilon)
    loss = backend.make_loss()
    x, z = as_backend(backend, X), as_backend(backend, Z)
    loss_D = backend.update_D(x, z, net_D, net_G, loss, trainer_D)
    loss_G = backend.update_G(z, net_D, net_G, loss, trainer_G)
    return (loss_D, loss_G), {"net_D": backend.to_canonical(net_D),
                              "net_G": backend.to_canonical(net_G)}


def step_inputs(seed: int, batch_size: int = 8):
    rng = np.random.default_rng(seed)
    return (rng.uniform(-1, 1, (batch_size, 3, 64, 64)).astype(np.float32),
            rng.standard_normal((batch_size, 100, 1, 1)).astype(np.float32))


@pytest.mark.several_frameworks
def test_the_pipelines_give_the_same_images_in_the_same_order(pair, tiny_image_folder):
    a, b = pair
    epochs = 2  # the second epoch has its own order, the same in both
    batches_a = a.load_data(tiny_image_folder, batch_size=4, num_workers=2, seed=7)
    batches_b = b.load_data(tiny_image_folder, batch_size=4, num_workers=2, seed=7)
    for _ in range(epochs):
        pairs = list(zip(batches_a, batches_b, strict=True))
        assert len(pairs) == 2
        for (X_a, _), (X_b, _) in pairs:
            np.testing.assert_allclose(array_to_nchw(a.as_numpy(X_a), a.LAYOUT),
                                       array_to_nchw(b.as_numpy(X_b), b.LAYOUT), atol=1e-6)


@pytest.mark.several_frameworks
def test_one_training_step_gives_the_same_losses_and_weights(pair):
    weights = init_weights(0)
    X, Z = step_inputs(100)
    (losses_a, after_a), (losses_b, after_b) = (
        one_step(b, weights, X, Z, PARITY_ADAM_EPSILON) for b in pair)
    np.testing.assert_allclose(losses_a, losses_b, rtol=TOLERANCE)
    difference, where = max_weight_difference(after_a, after_b, learned_only=True)
    assert difference <= TOLERANCE, f"{where} differs by {difference:.2e}"
    moved, _ = max_weight_difference(after_a, weights, learned_only=True)
    assert moved > 10 * TOLERANCE, "the step must move the weights well beyond the tolerance"


@pytest.mark.several_frameworks
def test_running_statistics_follow_each_frameworks_rule(pair):
    """PyTorch and Keras update running statistics in every training-mode forward pass;
    PyTorch averages the unbiased batch variance, Keras the biased one (a factor n/(n-1),
    n = examples x pixels per channel, at least 128 here, so at most 1% of one
    momentum-weighted update). MXNet updates them in the backward pass instead (a
    forward pass whose output is detached, like the generator's in update_D, leaves
    them unchanged), so its running statistics follow another schedule and are not
    compared; its training-mode outputs, which use batch statistics, are."""
    names = {b.NAME for b in pair}
    if "mxnet" in names:
        pytest.skip("MXNet updates running statistics in the backward pass (documented)")
    weights = init_weights(0)
    X, Z = step_inputs(100)
    (_, after_a), (_, after_b) = (one_step(b, weights, X, Z, PARITY_ADAM_EPSILON) for b in pair)
    for net in after_a:
        for name in after_a[net]:
            difference = float(np.abs(after_a[net][name] - after_b[net][name]).max())
            if name.endswith("running_mean"):
                assert difference <= TOLERANCE, name
            elif name.endswith("running_var"):
                bessel_bound = 0.1 * float(after_a[net][name].max()) / 127 * 3
                assert difference <= max(TOLERANCE, bessel_bound), name


@pytest.mark.several_frameworks
def test_ten_steps_stay_within_the_documented_drift(pair):
    """Ten steps on a fixed sequence of batches and noise, with the parity epsilon (from the
    second step on Adam's moments and bias corrections matter too): float32 rounding makes
    the runs drift apart slowly; the drift per step stays below the documented bounds and
    is printed (shown with ``pytest -s``, or with a failure). With the chapter's epsilon
    the runs decorrelate within ten steps, in float32 against float64 PyTorch as much as
    between frameworks; the numbers are in docs/framework-differences.md."""
    states = []
    for b in pair:
        net_D, net_G = nets_from(b, init_weights(0))
        trainer_D, trainer_G = b.make_trainers(net_D, net_G, lr=0.005,
                                               epsilon=PARITY_ADAM_EPSILON)
        states.append((b, net_D, net_G, trainer_D, trainer_G, b.make_loss()))
    rows = []
    for step in range(10):
        X, Z = step_inputs(200 + step)
        results = []
        for b, net_D, net_G, trainer_D, trainer_G, loss in states:
            x, z = as_backend(b, X), as_backend(b, Z)
            losses = (b.update_D(x, z, net_D, net_G, loss, trainer_D),
                      b.update_G(z, net_D, net_G, loss, trainer_G))
            results.append((losses, {"net_D": b.to_canonical(net_D),
                                     "net_G": b.to_canonical(net_G)}))
        loss_drift = float(np.max(np.abs(np.subtract(results[0][0], results[1][0]))
                                  / np.abs(results[0][0])))
        weight_drift, where = max_weight_difference(results[0][1], results[1][1],
                                                    learned_only=True)
        rows.append((step + 1, loss_drift, weight_drift, where))
    print(f"\n{pair[0].NAME} vs {pair[1].NAME}: step, relative loss drift, "
          f"max weight drift (where)")
    for row in rows:
        print("  %2d  %.2e  %.2e  (%s)" % row)
    assert max(r[1] for r in rows) <= TEN_STEP_LOSS_TOLERANCE
    assert max(r[2] for r in rows) <= TEN_STEP_WEIGHT_TOLERANCE


def test_export_import_export_gives_identical_bytes(backend, tmp_path):
    first = save_weights(tmp_path / "first.safetensors", reference_weights(3))
    net_D, net_G = nets_from(backend, load_weights(first))
    second = save_weights(tmp_path / "second.safetensors",
                          {"net_G": backend.to_canonical(net_G),
                           "net_D": backend.to_canonical(net_D)})
    assert first.read_bytes() == second.read_bytes()


@pytest.mark.several_frameworks
def test_weights_trained_in_one_backend_give_the_same_samples_in_another(pair, tmp_path):
    trained_in, loaded_into = pair
    net_D, net_G = nets_from(trained_in, init_weights(1))
    trainer_D, trainer_G = trained_in.make_trainers(net_D, net_G, lr=0.005)
    loss = trained_in.make_loss()
    for step in range(3):
        X, Z = step_inputs(300 + step, batch_size=4)
        x, z = as_backend(trained_in, X), as_backend(trained_in, Z)
        trained_in.update_D(x, z, net_D, net_G, loss, trainer_D)
        trained_in.update_G(z, net_D, net_G, loss, trainer_G)
    path = save_weights(tmp_path / "trained.safetensors",
                        {"net_G": trained_in.to_canonical(net_G),
                         "net_D": trained_in.to_canonical(net_D)})
    _, loaded_G = nets_from(loaded_into, load_weights(path))
    noise = np.random.default_rng(5).standard_normal((6, 100, 1, 1)).astype(np.float32)
    samples = [as_nchw(b, b.forward(g, as_backend(b, noise)))
               for b, g in ((trained_in, net_G), (loaded_into, loaded_G))]
    assert np.abs(samples[0] - samples[1]).max() <= TOLERANCE
    assert samples[0].std() > 1e-3


def test_the_default_and_the_chapter_style_steps_give_the_same_losses(backend):
    """Every speed setting (compilation, memory layout) keeps the numbers."""
    results = {}
    for eager in (True, False):
        net_D, net_G = nets_from(backend, init_weights(0))
        trainer_D, trainer_G = backend.make_trainers(net_D, net_G, lr=0.005,
                                                     epsilon=PARITY_ADAM_EPSILON)
        step = backend.make_step(net_D, net_G, backend.make_loss(), trainer_D, trainer_G, 100,
                                 eager=eager)
        losses = []
        for i in range(3):
            X, Z = step_inputs(400 + i, batch_size=4)
            losses.append(tuple(map(float, step(as_backend(backend, X),
                                                as_backend(backend, Z)))))
        results[eager] = losses
    np.testing.assert_allclose(results[True], results[False], rtol=TOLERANCE)
