"""The quality metrics (``dcgan.quality``): what they say about sets of images whose
quality is known, the reference classifier, the command line and ``--eval-every``."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dcgan import backend as backends
from dcgan.datasets import labelled_images, sprites
from dcgan.quality import QualityReference, draw_samples
from dcgan.quality.__main__ import main as quality_main
from dcgan.quality.classifier import train_classifier
from dcgan.quality.metrics import frechet_distance, precision_recall
from dcgan.quality.reference import read_images
from dcgan.quality.swd import swd_by_level
from dcgan.weights import init_weights, save_weights


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("quality-data")
    return root, sprites(root, count=400)


@pytest.fixture(scope="module")
def reference(data):
    root, folder = data
    return QualityReference.of_folder(folder, root, size=200)


def test_identical_sets_score_like_real_data_and_cover_everything(reference):
    same = reference.measure(reference.reference)
    floor = reference.noise_floor(200)
    assert same["swd_average"] < floor["swd_average"]
    assert same["fd"] == pytest.approx(0, abs=1e-3)
    assert same["precision"] == 1 and same["recall"] == 1
    assert same["classes_covered"] == same["classes_present"] == 4


def test_the_noise_floor_is_small_next_to_a_blank_image(reference):
    floor = reference.noise_floor(200)
    blank = reference.measure(np.zeros_like(reference.held_out))
    assert blank["swd_average"] > 5 * floor["swd_average"]
    assert blank["fd"] > 5 * floor["fd"]
    assert floor["precision"] > 0.7 and floor["recall"] > 0.7


def test_half_the_classes_removed_loses_coverage_and_recall_but_keeps_precision(reference):
    labels = reference.real_labels[len(reference.reference):]  # the held-out half's labels
    kept = np.isin(labels, [0, 1])
    half = reference.held_out[kept]
    half = np.concatenate([half, half])[:len(reference.held_out)]
    result, floor = reference.measure(half), reference.noise_floor(200)
    assert result["classes_covered"] == 2
    assert result["recall"] < floor["recall"] - 0.3
    assert result["precision"] > floor["precision"] - 0.15


def test_blurred_and_noisy_images_score_worse_than_real_ones(reference):
    real = blurred = reference.held_out
    for _ in range(3):
        blurred = (blurred + np.roll(blurred, 1, 1) + np.roll(blurred, -1, 1)
                   + np.roll(blurred, 1, 2) + np.roll(blurred, -1, 2)) / 5
    noisy = np.clip(real + np.random.default_rng(0).normal(0, 0.3, real.shape), -1, 1)
    floor = reference.noise_floor(200)
    for worse in (blurred.astype(np.float32), noisy.astype(np.float32)):
        result = reference.measure(worse)
        assert result["swd"]["64"] > 2 * floor["swd"]["64"], "the finest level sees it most"
        assert result["swd_average"] > floor["swd_average"]
        assert result["fd"] > 1.2 * floor["fd"]


def test_a_collapsed_set_is_flagged_by_coverage_and_recall(reference):
    collapsed = np.repeat(reference.held_out[:1], len(reference.held_out), axis=0)
    result = reference.measure(collapsed)
    assert result["classes_covered"] == 1
    assert result["recall"] < 0.05
    assert result["class_kl"] > 1


def test_the_frechet_distance_of_two_gaussians_is_the_closed_form():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((20000, 3))
    b = rng.standard_normal((20000, 3)) * 2 + 1
    # |mu|^2 = 3; traces 3 + 12 - 2 * 3 * 2 = 3
    assert frechet_distance(a, b) == pytest.approx(6, rel=0.05)


def test_the_reference_side_of_swd_is_computed_once_and_gives_the_same_numbers():
    rng = np.random.default_rng(0)
    reference = rng.uniform(-1, 1, (40, 3, 64, 64)).astype(np.float32)
    first, second = reference * 0.5, np.flip(reference, axis=3).copy()
    cache: dict = {}
    cached = [swd_by_level(x, reference, seed=3, cache_b=cache) for x in (first, second)]
    assert sorted(cache) == [0, 1, 2]  # one entry per pyramid level: 64, 32, 16
    assert cached == [swd_by_level(x, reference, seed=3) for x in (first, second)]


def test_precision_and_recall_of_a_subset():
    rng = np.random.default_rng(0)
    real = rng.standard_normal((400, 2))
    fake = real[real[:, 0] > 0]  # one half of the real distribution
    precision, recall = precision_recall(real, fake)
    assert precision == 1 and 0.4 < recall < 0.75


def test_the_reference_classifier_is_deterministic_and_accurate(data):
    _, folder = data
    paths, labels = labelled_images(folder)
    images = read_images(paths)
    a = train_classifier(images, np.array(labels), ["bird", "blob", "bug", "ghost"])
    b = train_classifier(images, np.array(labels), ["bird", "blob", "bug", "ghost"])
    assert a.accuracy >= 0.95
    assert a.accuracy == b.accuracy
    for wa, wb in zip(a.weights, b.weights):
        np.testing.assert_array_equal(wa, wb)


def test_a_ground_four_levels_off_white_is_nearer_than_another_image(data):
    # Real images on pure white: the features where the ground is never vary, so they
    # are standardised by the floor, not by their zero spread.
    from PIL import Image, ImageDraw

    _, folder = data
    paths, labels = labelled_images(folder)
    images = []
    for path in paths[:200]:
        image = Image.open(path).convert("RGB")
        ImageDraw.floodfill(image, (0, 0), (255, 255, 255), thresh=0)
        images.append(np.asarray(image, np.float32) / 127.5 - 1)
    on_white = np.stack(images)
    ground = (on_white == 1.0).all(axis=-1, keepdims=True)
    classifier = train_classifier(on_white, np.array(labels[:200]),
                                  ["bird", "blob", "bug", "ghost"])
    shade_off = np.where(ground, 1 - 4 / 127.5, on_white).astype(np.float32)
    features, shifted = classifier.features(on_white), classifier.features(shade_off)
    moved = np.linalg.norm(shifted - features, axis=1)
    between_images = np.linalg.norm(features[:100] - features[100:], axis=1)
    assert np.median(moved) < np.median(between_images)


def test_a_feature_the_real_images_never_vary_in_is_measured_in_the_floor():
    from dcgan.quality.classifier import feature_spread

    features = np.random.default_rng(0).normal(size=(500, 40)) * np.linspace(1, 2, 40)
    features[:, 0] = 0.0
    spread = feature_spread(features, floor=0.03)
    median = np.median(features.std(axis=0) + 1e-6)
    assert spread[0] == pytest.approx(0.03 * median)
    np.testing.assert_array_equal(spread[1:], features[:, 1:].std(axis=0) + 1e-6)


def test_the_classifier_is_cached_in_the_data_root(data, reference):
    root, folder = data
    cached = list((root / "reference-classifiers").glob("sprites-*.npz"))
    assert len(cached) == 1
    again = QualityReference.of_folder(folder, root, size=200)
    np.testing.assert_array_equal(again.classifier.weights[0], reference.classifier.weights[0])


@pytest.mark.several_frameworks
def test_every_backend_measures_the_same_weights_alike(reference):
    names = backends.available()
    if len(names) < 2:
        pytest.skip("needs two installed backends")
    weights = init_weights(5)["net_G"]
    images = {n: draw_samples(backends.load(n), weights, 64, seed=3) for n in names}
    reports = {n: reference.measure(images[n]) for n in names}
    first = names[0]
    for other in names[1:]:
        np.testing.assert_allclose(images[other], images[first], atol=1e-4)
        for key in ("swd_average", "fd", "precision", "recall", "classes_covered"):
            assert reports[other][key] == pytest.approx(reports[first][key], rel=1e-3,
                                                        abs=1e-3), key


def _run_folder(tmp_path, data, weights=None):
    root, folder = data
    run = tmp_path / "run"
    run.mkdir(parents=True)
    from dcgan.config import Config

    Config(dataset="sprites", num_images=400, data_root=str(root)).save(run / "config.json")
    if weights is not False:
        save_weights(run / "weights.safetensors", weights or init_weights(2))
    return run


def test_the_command_writes_quality_json_and_prints_the_table(backend, data, tmp_path, capsys):
    run = _run_folder(tmp_path, data)
    assert quality_main([str(run), "--num", "64", "--backend", backend.NAME]) == 0
    report = json.loads((run / "quality.json").read_text())
    assert report["metrics"]["samples"] == 64 and report["noise_floor"]["samples"] == 64
    assert report["backend"] == backend.NAME
    out = capsys.readouterr().out
    assert "SWD x1e3, average" in out and "real (noise floor)" in out


def _bad_quality_inputs(tmp_path, data):
    wrong = {"net_G": {"0.conv2d_trans.weight": np.zeros((3, 3, 4, 4), np.float32)}}
    empty = tmp_path / "empty"
    empty.mkdir()
    not_images = tmp_path / "not-images"
    (not_images / "a").mkdir(parents=True)
    (not_images / "a" / "x.txt").write_text("hello")
    return {
        "no weights": ([str(_run_folder(tmp_path / "a", data, weights=False))],
                       "no such file or run folder"),
        "wrong shape": ([str(_run_folder(tmp_path / "b", data, weights=wrong))], "net_G"),
        "empty data": ([str(_run_folder(tmp_path / "c", data)), "--data-dir", str(empty)],
                       "no class sub-folders"),
        "not images": ([str(_run_folder(tmp_path / "d", data)), "--data-dir", str(not_images)],
                       "x.txt"),
        "zero samples": ([str(_run_folder(tmp_path / "e", data)), "--num", "0"],
                         "must be at least 1"),
    }


@pytest.mark.parametrize("case", ["no weights", "wrong shape", "empty data", "not images",
                                  "zero samples"])
def test_bad_input_is_a_clear_error_and_writes_nothing(data, tmp_path, capsys, case):
    argv, words = _bad_quality_inputs(tmp_path, data)[case]
    with pytest.raises(SystemExit) as exit_info:
        quality_main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "python -m dcgan.quality: error: " in err and words in err, err
    assert not list(tmp_path.rglob("quality.json"))


@pytest.fixture(scope="module")
def small_data(tmp_path_factory):
    """128 sprites: two steps of 64 an epoch (JAX on the CPU trains about 10 images/s)."""
    root = tmp_path_factory.mktemp("small-quality-data")
    return root, sprites(root, count=128)


def test_training_measures_quality_every_epoch_and_draws_the_plot(backend, small_data,
                                                                  tmp_path):
    root, folder = small_data
    out = tmp_path / "run"
    assert backend.main(["--data-dir", str(folder), "--data-root", str(root), "--epochs", "2",
                         "--batch-size", "64", "--num-workers", "0", "--device", "cpu",
                         "--eval-every", "1", "--out", str(out)]) == 0
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["quality"]["samples"] for r in rows] == [64, 64]  # half the images each side
    assert all(r["quality"]["noise_floor"]["swd_average"] > 0 for r in rows)
    assert (out / "quality.png").is_file()


def test_eval_every_zero_measures_nothing(backend, tiny_image_folder, tmp_path):
    out = tmp_path / "run"
    assert backend.main(["--data-dir", str(tiny_image_folder), "--epochs", "1", "--batch-size",
                         "4", "--num-workers", "0", "--device", "cpu", "--eval-every", "0",
                         "--out", str(out)]) == 0
    row = json.loads((out / "metrics.jsonl").read_text())
    assert "quality" not in row and not (out / "quality.png").exists()


def test_an_ordinary_epoch_measures_the_cheap_number_of_samples_and_the_last_the_full():
    from dcgan.quality.probe import CHEAP_SAMPLES, FULL_SAMPLES, QualityProbe

    class Reference:
        size = 1000

        def measure(self, samples):
            return {"samples": len(samples)}

        def noise_floor(self, n):
            return {"samples": n}

    probe = QualityProbe(Reference(), every=1, num_epochs=2, latent_dim=100, layout="NCHW")
    draw = lambda noise: np.zeros((len(noise), 3, 64, 64), np.float32)  # noqa: E731
    assert probe.measure(1, draw)["samples"] == CHEAP_SAMPLES
    assert probe.measure(2, draw)["samples"] == FULL_SAMPLES
    assert not QualityProbe(Reference(), 3, 10, 100, "NCHW").due(2)
    assert QualityProbe(Reference(), 3, 10, 100, "NCHW").due(10)


def test_precision_and_recall_work_on_fewer_samples_than_neighbours():
    real = np.array([[0.0, 0.0], [1.0, 0.0]])
    precision, recall = precision_recall(real, real + 0.1)
    assert precision == 1 and recall == 1

