"""The benchmark's arithmetic and its output; no test here times anything."""

import json

import pytest

from dcgan.bench import (
    cpu_model,
    fastest_run,
    forward_flops,
    main,
    print_table,
    step_flops_per_example,
    torch_matmul_gflops,
)
from dcgan.shapes import discriminator_layers, generator_layers


def test_a_convolution_costs_output_pixels_times_kernel_volume_multiply_adds():
    first_D = discriminator_layers()[0]  # 3 -> 64 channels, 64x64 -> 32x32, 4x4 kernel
    assert first_D.multiply_adds() == 32 * 32 * 3 * 64 * 4 * 4
    first_G = generator_layers()[0]  # transposed: one input pixel, 100 -> 512 channels
    assert first_G.multiply_adds() == 1 * 100 * 512 * 4 * 4


def test_one_training_step_is_about_2_7_gflop_per_example():
    G, D = forward_flops(generator_layers()), forward_flops(discriminator_layers())
    # update_D: G forward, D forward+backward twice; update_G: G and D forward+backward.
    assert step_flops_per_example() == G + 2 * 3 * D + 3 * G + 3 * D
    assert 2.6e9 < step_flops_per_example() < 2.8e9


def test_the_benchmark_reports_every_mode_as_json(backend, capsys):
    assert main(["--backends", backend.NAME, "--batch-size", "2", "--steps", "1",
                 "--warmup", "0", "--repeats", "1", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["mode"] for r in rows] == ["default", "eager", "pipeline", "memory", "cli"]
    assert [r.get("precision") for r in rows] == ["fp32", "fp32", None, None, "fp32"]
    for row in rows:
        assert "error" not in row, row
        assert row["backend"] == backend.NAME and row["batch_size"] == 2
        assert row["examples_per_sec"] > 0 and row["peak_memory_mb"] > 0
    steps, inputs, command = rows[:2], rows[2:4], rows[4]
    assert all(0 < r["bound_fraction"] for r in steps + [command])
    assert all(r["examples_per_sec_runs"] == [r["examples_per_sec"]] for r in steps)
    assert all(0 <= r["data_wait_fraction"] <= 1 for r in inputs)


def test_the_table_shows_the_fastest_of_the_repeated_runs():
    runs = [{"mode": "default", "examples_per_sec": v, "peak_memory_mb": m}
            for v, m in ((61.0, 1), (55.0, 2), (64.0, 3))]
    assert fastest_run(runs) == {"mode": "default", "examples_per_sec": 64.0,
                                 "peak_memory_mb": 3, "examples_per_sec_runs": [61.0, 55.0, 64.0]}


def test_a_failed_run_is_reported_not_hidden_by_the_fastest():
    failed = {"mode": "eager", "error": "exit 1: out of memory"}
    assert fastest_run([{"mode": "eager", "examples_per_sec": 40.0}, failed]) == failed


def test_zero_repeats_is_refused_with_the_option_named(capsys):
    with pytest.raises(SystemExit):
        main(["--repeats", "0"])
    assert "--repeats" in capsys.readouterr().err


def test_the_table_names_the_machine_and_the_speed_ups_over_the_chapter_and_fp32(capsys):
    rows = [{"backend": "torch", "mode": mode, "precision": precision, "batch_size": 64,
             "examples_per_sec": v, "bound_fraction": v / 75, "peak_memory_mb": 1000,
             "version": "x"}
            for mode, precision, v in (("default", "fp32", 72.0), ("eager", "fp32", 60.0),
                                       ("default", "bf16", 108.0), ("eager", "bf16", 90.0),
                                       ("cli", "fp32", 54.0))]
    print_table(rows, {"fp32": 200.0, "bf16": 400.0}, flops=2.7e9, repeats=3)
    out = capsys.readouterr().out
    assert out.startswith(f"machine: {cpu_model()}, ")
    assert "fp32 matmul 200 GFLOP/s, arithmetic bound 74.1 examples/sec; " \
           "bf16 matmul 400 GFLOP/s, arithmetic bound 148.1" in out
    assert "the fastest of 3 alternating runs" in out
    assert out.rstrip().endswith("default step against the chapter's step: torch 1.20x\n"
                                 "bf16 default step against fp32's: torch 1.50x\n"
                                 "whole training command against its default step (fp32): "
                                 "torch 0.75x")


def test_each_precision_is_measured_in_one_run(load_backend, capsys):
    load_backend("torch")  # the plumbing; tests/test_precision.py checks every backend
    assert main(["--backends", "torch", "--precision", "fp32,bf16", "--batch-size", "2",
                 "--steps", "1", "--warmup", "0", "--repeats", "1", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["mode"], r.get("precision")) for r in rows] == [
        ("default", "fp32"), ("eager", "fp32"), ("default", "bf16"), ("eager", "bf16"),
        ("pipeline", None), ("memory", None), ("cli", "fp32"), ("cli", "bf16")]
    assert all("error" not in r and r["examples_per_sec"] > 0 for r in rows)


def test_an_unknown_precision_is_refused_with_the_option_named(capsys):
    with pytest.raises(SystemExit):
        main(["--precision", "fp32,fp8"])
    err = capsys.readouterr().err
    assert "--precision" in err and "'fp32,fp8'" in err


def test_tf32_is_a_gpus_arithmetic_and_refused_on_the_cpu(capsys):
    with pytest.raises(SystemExit) as exit_status:
        main(["--precision", "fp32,tf32"])
    assert exit_status.value.code == 2
    assert "--precision tf32: a GPU's arithmetic" in capsys.readouterr().err


def test_the_gpu_benchmark_without_a_gpu_is_a_clear_error(capsys):
    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None and torch.cuda.is_available():
        pytest.skip("this machine has a GPU: the benchmark would run on it")
    with pytest.raises(SystemExit) as exit_status:
        main(["--device", "gpu", "--backends", "torch"])
    assert exit_status.value.code == 2
    assert "--device gpu: " in capsys.readouterr().err


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_the_matmul_probe_measures_a_rate_at_each_precision(load_backend, precision):
    load_backend("torch")  # the GPU's probe; run here on the CPU with a small matrix
    assert torch_matmul_gflops(precision, device="cpu", n=64, repeats=1) > 0
