"""What every command of the package shares: one-line errors with a hint, help with one
line per option and its default once, a quiet start, one name per device, outputs with
the user's file mode, and a run folder wherever a weights file is taken."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from dcgan import bench, cli, compare
from dcgan.devices import device_label
from dcgan.loop import TrainingInterrupted, _StopRequest, run_epoch
from dcgan.weights import init_weights, save_weights

PARSERS = {
    "train": lambda: cli.build_parser("torch"),
    "sample": lambda: cli.build_sample_parser("torch"),
    "compare": compare.build_parser,
    "bench": bench.build_parser,
}

FRAMEWORK_FREE_COMMANDS = {
    "compare": (compare.main, "python -m dcgan.compare"),
    "bench": (bench.main, "python -m dcgan.bench"),
}


def assert_one_line_error(err: str, prog: str, words: str) -> None:
    lines = err.strip().splitlines()
    assert lines[0].startswith(f"{prog}: error: ") and words in lines[0], err
    assert lines[1:] == [f"see '{prog} --help' for the options"], err
    assert "usage:" not in err


@pytest.mark.parametrize("name", sorted(FRAMEWORK_FREE_COMMANDS))
def test_an_error_is_one_line_and_a_hint_not_the_usage_block(name, capsys):
    main, prog = FRAMEWORK_FREE_COMMANDS[name]
    with pytest.raises(SystemExit) as exit_info:
        main(["--batch-size", "0"])
    assert exit_info.value.code == 2
    assert_one_line_error(capsys.readouterr().err, prog, "--batch-size: must be at least 1")


@pytest.mark.parametrize("command", ["train", "sample"])
def test_the_backend_commands_answer_in_the_same_format(backend, command, tmp_path, capsys):
    main = backend.main if command == "train" else __import__(
        f"dcgan.{backend.NAME}.sample", fromlist=["main"]).main
    with pytest.raises(SystemExit) as exit_info:
        main(["--latent-dim", "0", "--weights", str(tmp_path)] if command == "sample"
             else ["--epochs", "0"])
    assert exit_info.value.code == 2
    assert_one_line_error(capsys.readouterr().err, f"python -m dcgan.{backend.NAME}.{command}",
                          "must be at least 1")


@pytest.mark.parametrize("value", ["nan", "inf", "NaN", "Infinity"])
def test_a_learning_rate_that_is_not_a_finite_number_is_a_bad_number(value, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.build_parser("torch").parse_args(["--lr", value])
    assert exit_info.value.code == 2
    assert_one_line_error(capsys.readouterr().err, "python -m dcgan.torch.train",
                          f"argument --lr: expected a finite float, got {value}")


@pytest.mark.parametrize("command", sorted(PARSERS))
def test_every_option_has_one_line_of_help_with_its_default_once(command):
    parser = PARSERS[command]()
    formatter = parser._get_formatter()
    for action in parser._actions:
        if action.help == "==SUPPRESS==" or not action.option_strings:
            continue
        text = formatter._get_help_string(action) % {"default": action.default}
        assert action.help, f"{command} {action.option_strings[0]} has no help"
        assert text.count("default") <= 1, f"{command} {action.option_strings[0]}: {text}"
        if action.default is not None and action.default is not False \
                and action.default != "==SUPPRESS==":
            assert "default" in text, f"{command} {action.option_strings[0]} hides its default"


def test_the_dataset_help_names_every_dataset():
    parser = cli.build_parser("torch")
    (dataset_help,) = [a.help for a in parser._actions if "--dataset" in a.option_strings]
    for name in ("Pokemon", "sprites", "Fashion-MNIST"):
        assert name in dataset_help


@pytest.mark.parametrize("device, label", [
    ("cpu", "cpu"), ("cuda:0", "gpu:0"), ("cuda", "gpu:0"), ("/CPU:0", "cpu"),
    ("/GPU:1", "gpu:1"), ("/job:localhost/replica:0/task:0/device:GPU:0", "gpu:0"),
    ("cpu(0)", "cpu"), ("gpu(2)", "gpu:2")])
def test_every_framework_s_device_name_is_shown_one_way(device, label):
    assert device_label(device) == label


def test_a_cpu_run_names_its_device_one_way_and_keeps_the_framework_s_name(
        backend, tiny_image_folder, tmp_path, capsys):
    out = tmp_path / "run"
    assert backend.main(["--data-dir", str(tiny_image_folder), "--epochs", "1", "--batch-size",
                         "4", "--num-workers", "0", "--device", "cpu", "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip().endswith("examples/sec on cpu")
    recorded = json.loads((out / "config.json").read_text())
    assert recorded["device_used"] == "cpu"
    assert recorded["framework_device"] == str(backend.resolve_device("cpu"))


def test_every_output_of_a_run_has_the_mode_the_umask_gives(backend, tiny_image_folder,
                                                            tmp_path):
    out = tmp_path / "run"
    previous = os.umask(0o027)
    try:
        assert backend.main(["--data-dir", str(tiny_image_folder), "--epochs", "1",
                             "--batch-size", "4", "--num-workers", "0", "--device", "cpu",
                             "--out", str(out)]) == 0
    finally:
        os.umask(previous)
    modes = {p.relative_to(out).as_posix(): p.stat().st_mode & 0o777 for p in out.rglob("*")
             if p.is_file()}
    assert modes and set(modes.values()) == {0o640}, modes


def test_init_from_takes_a_run_folder_and_says_which_file(backend, tiny_image_folder, tmp_path,
                                                          capsys):
    earlier = tmp_path / "earlier"
    save_weights(earlier / "weights.safetensors", init_weights(3))
    assert backend.main(["--data-dir", str(tiny_image_folder), "--epochs", "1", "--batch-size",
                         "4", "--num-workers", "0", "--device", "cpu", "--init-from",
                         str(earlier), "--out", str(tmp_path / "run")]) == 0
    assert f"starting from the weights in {earlier / 'weights.safetensors'}" in \
        capsys.readouterr().err


def test_a_cpu_run_prints_nothing_before_its_own_first_line(backend, tiny_image_folder,
                                                            tmp_path):
    """No framework start-up noise (TensorFlow's absl, oneDNN, CUDA and cuInit lines)."""
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL",
                                                            "DCGAN_VERBOSE")}
    result = subprocess.run(
        [sys.executable, "-m", f"dcgan.{backend.NAME}.train", "--data-dir",
         str(tiny_image_folder), "--epochs", "1", "--batch-size", "4", "--num-workers", "0",
         "--device", "cpu", "--out", str(tmp_path / "run")],
        capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.lstrip().splitlines()
    assert lines[0].startswith("training "), result.stderr  # the run's or its classifier's
    assert any(line.startswith(f"training {backend.NAME} DCGAN on ") for line in lines)
    assert "cuInit" not in result.stderr and "absl" not in result.stderr


def test_the_startup_filter_drops_known_notices_and_passes_everything_else():
    script = ("import os\nfrom dcgan.startup import quiet_native_startup\n"
              "with quiet_native_startup([r'^I0000 .*notice']):\n"
              "    os.write(2, b'I0000 12:00 x.cc:1] a notice\\nW a warning that matters\\n')\n")
    env = {k: v for k, v in os.environ.items() if k != "DCGAN_VERBOSE"}
    quiet = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                           env=env, timeout=60)
    assert quiet.stderr == "W a warning that matters\n"
    verbose = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                             env={**env, "DCGAN_VERBOSE": "1"}, timeout=60)
    assert "a notice" in verbose.stderr and "a warning that matters" in verbose.stderr


def test_an_interrupted_epoch_s_progress_bar_counts_the_step_it_finished(capsys):
    stop = _StopRequest()

    def step(X, epoch, i):
        stop.requested = True
        return 1.0, 1.0, 1

    with pytest.raises(TrainingInterrupted):
        run_epoch(step, [(0, 0), (0, 0), (0, 0)], 1, 1, progress=True, stop=stop)
    last = capsys.readouterr().err.strip().split("\r")[-1]
    assert " 1/3 " in last, last
