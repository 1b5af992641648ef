"""The DCGAN paper's pictures beyond the chapter: walks through the latent space, the
nearest training image of a sample, and vector arithmetic (``dcgan.latent`` and the
sample command)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from dcgan import backend as backends
from dcgan.latent import (
    interpolation_noise,
    nearest_images,
    parse_arithmetic,
    seed_vector,
    slerp,
    walk,
)
from dcgan.shapes import array_in_layout
from dcgan.weights import init_weights, save_weights


def sample_command(backend):
    return __import__(f"dcgan.{backend.NAME}.sample", fromlist=["main"]).main


@pytest.fixture(scope="module")
def weights_file(tmp_path_factory):
    """Initial weights with BatchNorm's scale 1 (as Gluon initialises it): unlike the
    N(0, 0.02) scale, the images then differ visibly from one noise vector to the next."""
    weights = init_weights(4)
    for name in weights["net_G"]:
        if name.endswith("batch_norm.gamma"):
            weights["net_G"][name] = np.ones_like(weights["net_G"][name])
    path = tmp_path_factory.mktemp("weights") / "weights.safetensors"
    save_weights(path, weights)
    return path


def test_a_walk_starts_and_ends_at_the_two_seeds_vectors():
    noise = interpolation_noise(seed=5, rows=2, steps=6)
    np.testing.assert_allclose(noise[0], seed_vector(5, 100), atol=1e-6)
    np.testing.assert_allclose(noise[5], seed_vector(6, 100), atol=1e-6)
    np.testing.assert_allclose(noise[6], seed_vector(7, 100), atol=1e-6)
    np.testing.assert_allclose(noise[11], seed_vector(8, 100), atol=1e-6)


def test_the_seed_vector_is_the_first_sample_of_that_seed():
    drawn = np.random.default_rng(3).standard_normal((4, 100)).astype(np.float32)
    np.testing.assert_array_equal(seed_vector(3, 100), drawn[0])


def test_slerp_keeps_the_length_between_the_endpoints_lengths():
    rng = np.random.default_rng(0)
    z0, z1 = rng.standard_normal(100), 1.5 * rng.standard_normal(100)
    low, high = sorted([np.linalg.norm(z0), np.linalg.norm(z1)])
    for t in np.linspace(0, 1, 11):
        assert low - 1e-9 <= np.linalg.norm(slerp(z0, z1, t)) <= high + 1e-9
    middle = np.linalg.norm(walk(z0, z1, 3, "linear")[1])
    assert middle < low, "a straight line dips towards the origin; that is why slerp"


def test_nearest_finds_a_training_image_given_one_of_its_own():
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (50, 8, 8, 3))
    assert list(nearest_images(images[[3, 41, 7]], images)) == [3, 41, 7]


def test_arithmetic_expressions_name_classes_with_signs():
    assert parse_arithmetic("bug - blob + ghost", ["bird", "blob", "bug", "ghost"]) == [
        (1, "bug"), (-1, "blob"), (1, "ghost")]
    with pytest.raises(ValueError, match="'cat' is not a class"):
        parse_arithmetic("bug - cat", ["bird", "blob", "bug", "ghost"])


def test_the_interpolation_grid_and_gif(backend, weights_file, tmp_path):
    out = tmp_path / "walk.png"
    assert sample_command(backend)(["--weights", str(weights_file), "--interpolate", "3",
                                    "--steps", "5", "--device", "cpu", "--out", str(out)]) == 0
    assert Image.open(out).size == (5 * 64, 3 * 64)
    gif = Image.open(out.with_suffix(".gif"))
    assert gif.n_frames == 5
    assert gif.size == (64, 3 * 64)


def test_the_endpoints_of_a_walk_are_the_samples_of_the_two_seeds(backend, weights_file,
                                                                  tmp_path):
    command = sample_command(backend)
    command(["--weights", str(weights_file), "--interpolate", "1", "--steps", "4", "--seed",
             "9", "--device", "cpu", "--out", str(tmp_path / "walk.png")])
    for seed, column in ((9, 0), (10, 3)):
        command(["--weights", str(weights_file), "--num", "1", "--seed", str(seed), "--device",
                 "cpu", "--out", str(tmp_path / f"s{seed}.png")])
        walk_image = np.asarray(Image.open(tmp_path / "walk.png"), int)
        sample = np.asarray(Image.open(tmp_path / f"s{seed}.png"), int)
        assert np.abs(walk_image[:, 64 * column:64 * (column + 1)] - sample).max() <= 1


@pytest.mark.several_frameworks
def test_every_backend_draws_the_same_walk(weights_file):
    names = backends.available()
    if len(names) < 2:
        pytest.skip("needs two installed backends")
    from dcgan.weights import load_weights

    noise = interpolation_noise(0, 2, 5)
    weights = load_weights(weights_file)["net_G"]
    images = {}
    for name in names:
        b = backends.load(name)
        net_G = b.net_G()
        b.from_canonical(net_G, weights)
        Z = array_in_layout(noise.reshape(len(noise), -1, 1, 1), b.LAYOUT)
        out = b.generate(net_G, b.as_tensor(Z))
        images[name] = out if b.LAYOUT == "NCHW" else out.transpose(0, 3, 1, 2)
    for name in names[1:]:
        np.testing.assert_allclose(images[name], images[names[0]], atol=1e-4)


def test_nearest_puts_each_sample_beside_a_training_image(backend, weights_file,
                                                           tiny_image_folder, tmp_path):
    out = tmp_path / "nearest.png"
    assert sample_command(backend)(["--weights", str(weights_file), "--nearest", "--num", "4",
                                    "--data-dir", str(tiny_image_folder), "--device", "cpu",
                                    "--out", str(out)]) == 0
    grid = np.asarray(Image.open(out))
    assert grid.shape == (2 * 64, 4 * 64, 3)
    real = {np.asarray(Image.open(p)).tobytes() for p in tiny_image_folder.rglob("*.png")}
    for row in range(2):
        for pair in range(2):
            nearest = grid[64 * row:64 * (row + 1), 64 * (2 * pair + 1):64 * (2 * pair + 2)]
            assert nearest.tobytes() in real


class FirstCoordinateClassifier:
    """A stand-in reference classifier: the class of an image is decided by its top-left
    pixel, which the stand-in generator below sets from the noise."""

    classes = ["bird", "blob", "bug", "ghost"]

    def logits(self, images):
        value = images[:, 0, 0, 0]
        return np.stack([-(value - c) ** 2 for c in (-0.75, -0.25, 0.25, 0.75)], axis=1)


def test_arithmetic_averages_each_term_s_confident_vectors_and_draws_the_result(tmp_path):
    from dcgan.latent import write_arithmetic

    drawn = []

    def images_of(noise):  # images whose top-left pixel is the noise's first coordinate
        drawn.append(noise)
        images = np.zeros((len(noise), 64, 64, 3), np.float32)
        images[:, 0, 0, 0] = np.clip(noise[:, 0] / 4 + 0.5, 0, 1)
        return images

    out = write_arithmetic(images_of, "bug - blob + ghost", FirstCoordinateClassifier(), 0,
                           100, tmp_path / "arithmetic.png")
    assert Image.open(out).size[1] > 200
    candidates, *terms, result = drawn
    assert [len(t) for t in terms] == [4, 4, 4], "three vectors and their mean per term"
    expected = terms[0][3] - terms[1][3] + terms[2][3]
    np.testing.assert_allclose(result[0], expected, atol=1e-5)
    assert len(result) == 9 and np.abs(result[1:] - result[0]).max() <= 0.25


def test_arithmetic_with_a_class_the_generator_never_draws_is_a_clear_error(
        backend, weights_file, tmp_path, capsys):
    from dcgan.datasets import sprites

    root = tmp_path / "data"
    folder = sprites(root, count=120)
    out = tmp_path / "arithmetic.png"
    try:
        status = sample_command(backend)(["--weights", str(weights_file), "--arithmetic",
                                          "bug - blob + ghost", "--data-dir", str(folder),
                                          "--data-root", str(root), "--device", "cpu",
                                          "--out", str(out)])
    except SystemExit as exit_info:
        assert exit_info.code == 2
        assert "no sample was classified as" in capsys.readouterr().err
        assert not out.exists()
    else:
        assert status == 0 and out.is_file()


@pytest.mark.parametrize("argv, words", [
    (["--interpolate", "0"], "--interpolate: must be at least 1"),
    (["--interpolate", "2", "--steps", "1"], "--steps 1: a walk needs at least 2"),
    (["--interpolate", "2", "--steps", "0"], "--steps: must be at least 1"),
    (["--interpolate", "2", "--latent-dim", "50"], "net_G"),
])
def test_bad_input_is_a_clear_error_and_writes_nothing(backend, weights_file, tmp_path, capsys,
                                                       argv, words):
    out = tmp_path / "walk.png"
    with pytest.raises(SystemExit) as exit_info:
        sample_command(backend)(["--weights", str(weights_file), *argv, "--out", str(out)])
    assert exit_info.value.code == 2
    assert words in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
