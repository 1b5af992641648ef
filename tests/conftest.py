"""Fixtures shared by the test suite.

``backend`` parametrizes a test over the three backends of
``dcgan.backend.BACKENDS``; a backend whose framework is not installed is
skipped with the reason, never failed. Run one backend with
``pytest -k torch`` (or ``tensorflow``, ``mxnet``).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from dcgan import backend as backends
from dcgan.datasets import sprites
from dcgan.shapes import array_in_layout


def _load(name: str):
    reason = backends.missing_reason(name)
    if reason is not None:
        pytest.skip(f"{name} backend: {reason}")
    return backends.load(name)


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
