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
