"""``python -m dcgan.<backend>.train`` end to end, and its answers to bad input."""

import json
import subprocess
import sys

import pytest
from PIL import Image

from dcgan.config import SAMPLE_COLS, SAMPLE_ROWS, Config
from dcgan.weights import load_weights


def run_main(backend, argv):
    return backend.main(list(map(str, argv)))


def test_the_command_line_writes_every_output(backend, tiny_image_folder, tmp_path, capsys):
    out = tmp_path / "run"
    assert run_main(backend, ["--data-dir", tiny_image_folder, "--epochs", 1, "--batch-size", 4,
                              "--num-workers", 0, "--device", "cpu", "--out", out]) == 0
    assert "examples/sec on" in capsys.readouterr().out
    config = Config.from_json((out / "config.json").read_text())
    assert config.num_epochs == 1 and config.batch_size == 4
    (row,) = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert row["epoch"] == 1 and row["examples"] == 8
    grid = Image.open(out / "samples" / "epoch_001.png")
    assert grid.size == (SAMPLE_COLS * 64, SAMPLE_ROWS * 64)
    assert Image.open(out / "losses.png").size[0] > 100
    weights = load_weights(out / "weights.safetensors")
    assert set(weights) == {"net_G", "net_D"}
    native = {p.name.split(".")[0] for p in out.iterdir() if p.name.startswith("net_")}
    assert native == {"net_G", "net_D"}
    assert Image.open(out / "progress.gif").n_frames == 1


def test_help_runs_as_a_module(backend):
    result = subprocess.run([sys.executable, "-m", f"dcgan.{backend.NAME}.train", "--help"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    for option in ("--dataset", "--data-dir", "--data-root", "--epochs", "--batch-size", "--lr",
                   "--latent-dim", "--seed", "--device", "--out", "--num-workers", "--eager"):
        assert option in result.stdout


def _bad_inputs(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with_text = tmp_path / "with_text"
    (with_text / "cats").mkdir(parents=True)
    Image.new("RGB", (8, 8)).save(with_text / "cats" / "1.png")
    (with_text / "cats" / "readme.txt").write_text("not an image")
    (tmp_path / "x.h5").write_bytes(b"\x89HDF\r\n not safetensors")
    return {
        "missing data dir": (["--data-dir", tmp_path / "missing"], "does not exist"),
        "empty data dir": (["--data-dir", empty], "no class sub-folders"),
        "not an image": (["--data-dir", with_text], "readme.txt"),
        "zero epochs": (["--dataset", "sprites", "--epochs", "0"], "--epochs: must be at least 1"),
        "negative batch size": (["--dataset", "sprites", "--batch-size", "-4"],
                                "--batch-size: must be at least 1"),
        "zero learning rate": (["--dataset", "sprites", "--lr", "0"], "--lr: must be greater"),
        "foreign weights file": (["--dataset", "sprites", "--init-from", empty.parent / "x.h5"],
                                 "x.h5"),
    }


@pytest.mark.parametrize("case", ["missing data dir", "empty data dir", "not an image",
                                  "zero epochs", "negative batch size", "zero learning rate",
                                  "foreign weights file"])
def test_bad_input_gets_a_clear_error_not_a_traceback(backend, tmp_path, capsys, case):
    argv, words = _bad_inputs(tmp_path)[case]
    with pytest.raises(SystemExit) as exit_info:
        run_main(backend, [*argv, "--data-root", tmp_path / "cache", "--out", tmp_path / "run"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err
    assert not (tmp_path / "run").exists(), "nothing is written for a refused run"


def test_plain_relu_and_a_class_subset_work_from_the_command_line(backend, tiny_image_folder,
                                                                    tmp_path):
    """The chapter's first exercise (--alpha 0 is a plain ReLU) and --classes, end to end."""
    out = tmp_path / "run"
    assert run_main(backend, ["--data-dir", tiny_image_folder, "--classes", "bug", "ghost",
                              "--alpha", 0, "--epochs", 1, "--batch-size", 4, "--num-workers",
                              0, "--device", "cpu", "--data-root", tmp_path / "cache",
                              "--out", out]) == 0
    config = Config.from_json((out / "config.json").read_text())
    assert config.alpha == 0 and config.classes == ("bug", "ghost")
    (row,) = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert row["examples"] == 4


@pytest.mark.several_frameworks
def test_samples_are_drawn_from_weights_another_backend_wrote(backend, load_backend, tmp_path):
    """python -m dcgan.<backend>.sample, from canonical weights any backend can write."""
    from conftest import nets_from

    from dcgan.weights import init_weights, save_weights

    writer = load_backend("torch")
    net_D, net_G = nets_from(writer, init_weights(4))
    run = tmp_path / "run"
    save_weights(run / "weights.safetensors", {"net_G": writer.to_canonical(net_G),
                                               "net_D": writer.to_canonical(net_D)})
    sample_main = __import__(f"dcgan.{backend.NAME}.sample", fromlist=["main"]).main
    out = tmp_path / "grid.png"
    assert sample_main(["--weights", str(run), "--num", "16", "--seed", "3", "--device", "cpu",
                        "--out", str(out)]) == 0
    assert Image.open(out).size == (4 * 64, 4 * 64)


def test_sampling_from_a_missing_run_is_a_clear_error(backend, tmp_path, capsys):
    sample_main = __import__(f"dcgan.{backend.NAME}.sample", fromlist=["main"]).main
    with pytest.raises(SystemExit) as exit_info:
        sample_main(["--weights", str(tmp_path / "nope"), "--out", str(tmp_path / "g.png")])
    assert exit_info.value.code == 2
    assert "no such file or run folder" in capsys.readouterr().err
    assert not (tmp_path / "g.png").exists()
