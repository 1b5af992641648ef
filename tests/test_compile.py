"""``--compile``: the step compiled further against launch overhead (torch.compile, XLA), the
same training up to rounding, and never together with the chapter's ``--eager`` step."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import nets_from, random_batch
from test_parity import PARITY_ADAM_EPSILON, TOLERANCE, max_weight_difference

from dcgan import cli
from dcgan.config import Config
from dcgan.weights import init_weights

# The backends whose --compile adds a compiler; MXNet's static graph and JAX's jit are
# already their whole answer, so their compiled step is the default one, bit for bit.
FURTHER_COMPILED = ("torch", "tensorflow")


def _one_step(backend, compile):
    """Losses and weights after one step, with the parity tests' Adam epsilon (which keeps
    Adam's first update from turning rounding differences into +-lr; tests/test_parity.py)."""
    net_D, net_G = nets_from(backend)
    trainer_D, trainer_G = backend.make_trainers(net_D, net_G, lr=0.005,
                                                 epsilon=PARITY_ADAM_EPSILON)
    step = backend.make_step(net_D, net_G, backend.make_loss(), trainer_D, trainer_G, 100,
                             compile=compile)
    losses = step(random_batch(backend, (8, 3, 64, 64), seed=1),
                  random_batch(backend, (8, 100, 1, 1), seed=2))
    return np.array([float(loss) for loss in losses]), {"net_D": backend.to_canonical(net_D),
                              "net_G": backend.to_canonical(net_G)}


def test_a_compiled_step_trains_as_the_default_step_up_to_rounding(backend):
    default_losses, default_nets = _one_step(backend, compile=False)
    compiled_losses, compiled_nets = _one_step(backend, compile=True)
    if backend.NAME in FURTHER_COMPILED:
        np.testing.assert_allclose(compiled_losses, default_losses, rtol=TOLERANCE)
    else:
        np.testing.assert_array_equal(compiled_losses, default_losses)
    difference, where = max_weight_difference(compiled_nets, default_nets, learned_only=True)
    assert difference <= TOLERANCE, f"{where} differs by {difference:.2e}"
    moved, _ = max_weight_difference(compiled_nets, {"net_D": init_weights(0)["net_D"],
                                                     "net_G": init_weights(0)["net_G"]},
                                     learned_only=True)
    assert moved > 10 * TOLERANCE


def test_the_chapters_eager_step_is_never_compiled():
    with pytest.raises(ValueError, match="--eager and --compile exclude each other"):
        Config(eager=True, compile=True)


def test_the_command_line_asks_for_compilation_with_compile(backend, tmp_path, capsys):
    parser = cli.build_parser(backend.NAME)
    assert cli.config_from_args(parser.parse_args(["--compile"])).compile
    assert not cli.config_from_args(parser.parse_args([])).compile
    with pytest.raises(SystemExit) as exit_status:
        backend.main(["--dataset", "sprites", "--eager", "--compile",
                      "--out", str(tmp_path / "run")])
    assert exit_status.value.code == 2
    assert "--eager and --compile" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_compiling_on_a_cpu_without_a_cpp_compiler_is_a_clear_error(tiny_image_folder, tmp_path,
                                                                      capsys, monkeypatch):
    """TorchInductor builds its CPU kernels with a C++ compiler: without one, --compile is
    refused before the run folder is written, rather than failing at the first step."""
    pytest.importorskip("torch", reason="PyTorch is not installed")
    from torch._inductor import config as inductor_config
    from torch._inductor.cpp_builder import cpp_compiler_search

    from dcgan.torch.train import main

    monkeypatch.setattr(inductor_config.cpp, "cxx", ("no-such-c++-compiler",))
    cpp_compiler_search.cache_clear()
    try:
        with pytest.raises(SystemExit) as exit_status:
            main(["--data-dir", str(tiny_image_folder), "--compile", "--device", "cpu",
                  "--eval-every", "0", "--out", str(tmp_path / "run")])
    finally:
        cpp_compiler_search.cache_clear()
    assert exit_status.value.code == 2
    err = capsys.readouterr().err
    assert "--compile" in err and "no compiler" in err and "Traceback" not in err
    assert not (tmp_path / "run").exists()
