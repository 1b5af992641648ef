"""Fixtures shared by the test suite.

``backend`` parametrizes a test over the backends of ``dcgan.backend.BACKENDS``;
a backend whose framework is not installed is skipped with the reason, never
failed. Run one backend with ``pytest -k torch`` (or ``tensorflow``, ``mxnet``,
``jax``).

A test that uses two or more backends carries the mark ``several_frameworks``:
tox's ``all`` environment, the only one with every framework, runs just those,
since each backend's own tests have run in its own environment. A test that asks
for a second backend without the mark fails, so that none is left out of CI.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest

from dcgan import backend as backends
from dcgan.datasets import DATA_ROOT_ENV, default_data_root, sprites
from dcgan.shapes import array_in_layout


def pytest_configure(config):
    """Under pytest-xdist (``pytest -n 2``, as tox runs the suite) each worker process
    keeps its datasets and reference classifiers in a data root of its own, so that two
    workers never build the same cached folder at once."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        os.environ[DATA_ROOT_ENV] = str(default_data_root() / worker)

_requested: set[str] = set()


def _load(name: str):
    _requested.add(name)
    reason = backends.missing_reason(name)
    if reason is not None:
        pytest.skip(f"{name} backend: {reason}")
    return backends.load(name)


def _backend_names(value) -> set[str]:
    """The backends a fixture's value holds: one backend, or a tuple of them."""
    if isinstance(value, tuple):
        return set().union(*map(_backend_names, value))
    name = getattr(value, "NAME", None)
    return {name} if name in backends.BACKENDS else set()


@pytest.fixture(autouse=True)
def _several_frameworks_are_marked(request):
    """Fails a test that uses two backends (installed or not) without the mark."""
    _requested.clear()
    yield
    used = _requested.union(*map(_backend_names, request.node.funcargs.values()))
    if len(used) > 1 and request.node.get_closest_marker("several_frameworks") is None:
        pytest.fail(f"{request.node.name} uses the backends {sorted(used)}: mark it "
                    "@pytest.mark.several_frameworks so that tox's all environment runs it")


@pytest.fixture(params=backends.BACKENDS, scope="session")
def backend(request):
    """Each backend in turn (as ``dcgan.backend.load`` returns it), skipped when missing."""
    return _load(request.param)


@pytest.fixture(scope="session")
def load_backend():
    """A function loading a backend by name, skipping the test when it is missing."""
    return _load


@pytest.fixture(scope="session")
def doc_script():
    """A loader of the study scripts in docs/ (``doc_script("pokemon_study")``), which are
    not part of the package."""
    docs = Path(__file__).resolve().parents[1] / "docs"

    def load(name: str):
        spec = importlib.util.spec_from_file_location(name, docs / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load


@pytest.fixture(scope="session")
def tiny_image_folder(tmp_path_factory):
    """Eight 64x64 sprites in the shared image-folder layout."""
    return sprites(tmp_path_factory.mktemp("data"), count=8)


def random_batch(backend, shape_nchw, seed=0, low=-1.0, high=1.0):
    """A float32 batch given by its NCHW shape, as a tensor in the backend's layout."""
    rng = np.random.default_rng(seed)
    array = rng.uniform(low, high, size=shape_nchw).astype(np.float32)
    return backend.as_tensor(array_in_layout(array, backend.LAYOUT))


def nets_from(backend, weights=None):
    """``(net_D, net_G)`` of ``backend`` holding canonical ``weights`` (default: the seed-0
    draw of ``dcgan.weights.init_weights``)."""
    from dcgan.weights import init_weights

    weights = weights if weights is not None else init_weights(0)
    net_D, net_G = backend.net_D(), backend.net_G()
    backend.from_canonical(net_D, weights["net_D"])
    backend.from_canonical(net_G, weights["net_G"])
    return net_D, net_G
