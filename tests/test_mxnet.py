"""What only the MXNet backend has to prove: hybridized (compiled) nets compute what the
imperative nets compute, and the numpy alias it needs is restored in one place."""

import numpy as np
import pytest
from conftest import random_batch

from dcgan.weights import init_weights


@pytest.fixture(scope="module")
def mxb(load_backend):
    return load_backend("mxnet")


@pytest.mark.parametrize("net_name, shape", [("net_G", (8, 100, 1, 1)),
                                             ("net_D", (8, 3, 64, 64))])
@pytest.mark.parametrize("training", [False, True])
def test_hybridized_and_imperative_nets_give_the_same_outputs(mxb, net_name, shape, training):
    from mxnet import autograd

    x = random_batch(mxb, shape, seed=7)
    outputs = []
    for hybridize in (False, True):
        net = getattr(mxb, net_name)()
        mxb.from_canonical(net, init_weights(3)[net_name])
        if hybridize:
            net.hybridize(static_alloc=True, static_shape=True)
        with autograd.record(train_mode=training):
            outputs.append(mxb.as_numpy(net(x)))
    np.testing.assert_allclose(outputs[0], outputs[1], atol=1e-5)


def test_the_numpy_bool_alias_is_restored_only_by_the_mxnet_package():
    from pathlib import Path

    import dcgan

    root = Path(dcgan.__file__).parent
    setters = [p.relative_to(root).as_posix() for p in root.rglob("*.py")
               if "numpy.bool = bool" in p.read_text()]
    assert setters == ["mxnet/__init__.py"]


def test_mxnet_updates_running_statistics_in_the_backward_pass_not_the_forward(mxb):
    """The fact behind the one documented running-statistics difference: a training-mode
    forward pass alone leaves them as they were (PyTorch and Keras would update them)."""
    from mxnet import autograd

    net = mxb.net_D()
    mxb.from_canonical(net, init_weights(0)["net_D"])
    x = random_batch(mxb, (4, 3, 64, 64), seed=8)
    before = mxb.to_canonical(net)["0.batch_norm.running_mean"]
    with autograd.record():
        y = net(x)
    after_forward = mxb.to_canonical(net)["0.batch_norm.running_mean"]
    y.backward()
    after_backward = mxb.to_canonical(net)["0.batch_norm.running_mean"]
    assert np.array_equal(before, after_forward)
    assert np.abs(after_backward - before).max() > 0


def test_a_net_on_two_contexts_normalises_over_the_whole_batch_as_on_one(mxb):
    """``forward_on_devices``, the data-parallel step's forward pass: the outputs, the
    gradients summed over the contexts and the running statistics after the backward pass
    are those of the whole batch on one context (Gluon's SyncBatchNorm hangs on CPU
    contexts, so the backend's own global BatchNorm is what makes them so)."""
    import mxnet as mx
    from mxnet import autograd

    from dcgan.mxnet.blocks import update_running_statistics
    from dcgan.mxnet.nets import forward_on_devices

    X = random_batch(mxb, (8, 3, 64, 64), seed=9).asnumpy()

    def trained(devices):
        net = mxb.net_D()
        mxb.from_canonical(net, init_weights(0)["net_D"])
        net.collect_params().reset_ctx(devices)
        parts = [mxb.as_tensor(part, device) for part, device in
                 zip(np.split(X, len(devices)), devices)]
        pending = []
        with autograd.record():
            Y = forward_on_devices(net, parts, pending) if len(devices) > 1 else [net(parts[0])]
            losses = [(y ** 2).sum() for y in Y]
        autograd.backward(losses)
        update_running_statistics(pending)
        weight = net[1].conv2d.weight
        return (np.concatenate([mxb.as_numpy(y) for y in Y]),
                sum(mxb.as_numpy(g) for g in weight.list_grad()), mxb.to_canonical(net))

    one, two = trained([mx.cpu(0)]), trained([mx.cpu(0), mx.cpu(1)])
    np.testing.assert_allclose(two[0], one[0], atol=1e-5)
    np.testing.assert_allclose(two[1], one[1], rtol=1e-4, atol=1e-6)
    for name, array in one[2].items():
        np.testing.assert_allclose(two[2][name], array, atol=1e-6, err_msg=name)
    assert np.abs(two[2]["0.batch_norm.running_mean"]).max() > 0, "no statistics moved"
