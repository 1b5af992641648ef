"""The backend contract: every backend provides the same names, and importing one backend
(or the framework-free core) never imports another framework."""

import json
import subprocess
import sys

import pytest

from dcgan import backend as backends

FRAMEWORKS = ("torch", "tensorflow", "mxnet", "jax")


def frameworks_imported_by(code: str) -> list[str]:
    """The deep-learning frameworks in sys.modules after running ``code`` in a fresh process."""
    loaded = f"[m for m in {FRAMEWORKS!r} if m in sys.modules]"
    script = f"{code}\nimport json, sys\nprint(json.dumps({loaded}))"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_every_backend_fulfils_the_contract(backend):
    assert isinstance(backend, backends.Backend)
    assert backend.LAYOUT in ("NCHW", "NHWC")
    for names in backends.CONTRACT.values():
        for name in names:
            assert callable(getattr(backend, name)), name


def test_the_framework_free_core_imports_no_framework():
    core = "import dcgan, dcgan.backend, dcgan.cli, dcgan.config, dcgan.datasets, " \
           "dcgan.loop, dcgan.plotting, dcgan.runs, dcgan.shapes, dcgan.weights"
    assert frameworks_imported_by(core) == []


@pytest.mark.several_frameworks
@pytest.mark.parametrize("name", backends.BACKENDS)
def test_loading_a_backend_imports_only_its_own_framework(name):
    reason = backends.missing_reason(name)
    if reason is not None:
        pytest.skip(f"{name} backend: {reason}")
    assert frameworks_imported_by(f"import dcgan.backend; dcgan.backend.load({name!r})") == [name]


def test_a_missing_framework_is_a_clear_import_error(monkeypatch):
    monkeypatch.setitem(backends.FRAMEWORK_MODULE, "torch", "a_framework_that_is_not_here")
    with pytest.raises(ImportError, match=r'pip install -e "\.\[torch\]"'):
        backends.load("torch")
