"""The chapter's hyperparameters, written once in dcgan.config."""

import pytest

from dcgan.cli import build_parser, config_from_args
from dcgan.config import Config


def test_defaults_are_the_chapters():
    c = Config()
    assert (c.latent_dim, c.n_G, c.n_D, c.image_size) == (100, 64, 64, 64)
    assert (c.batch_size, c.lr, c.num_epochs) == (256, 0.005, 20)
    assert (c.beta1, c.beta2, c.init_std, c.alpha) == (0.5, 0.999, 0.02, 0.2)


@pytest.mark.parametrize("field, value, words", [
    ("num_epochs", 0, "num_epochs must be a positive integer"),
    ("batch_size", -4, "batch_size must be a positive integer"),
    ("lr", 0.0, "lr must be positive"),
    ("alpha", 1.5, "alpha"),
    ("image_size", 32, "64x64"),
    ("preset", "book", "preset must be one of chapter, paper"),
])
def test_invalid_values_are_refused_with_the_field_named(field, value, words):
    with pytest.raises(ValueError, match=words):
        Config(**{field: value})


def test_json_round_trip_and_unknown_keys():
    c = Config(num_epochs=3, dataset="sprites")
    assert Config.from_json(c.to_json()) == c
    with pytest.raises(ValueError, match="unknown configuration keys"):
        Config.from_json('{"epochs": 3}')


def test_the_paper_preset_is_radford_et_als_learning_rate_and_batch_size():
    args = build_parser("torch").parse_args(["--preset", "paper"])
    c = config_from_args(args)
    assert (c.preset, c.lr, c.batch_size) == ("paper", 0.0002, 128)
    assert (c.beta1, c.beta2, c.init_std, c.alpha) == (0.5, 0.999, 0.02, 0.2)


def test_the_chapter_preset_is_the_default_and_explicit_values_override_a_preset():
    default = config_from_args(build_parser("torch").parse_args([]))
    assert (default.preset, default.lr, default.batch_size) == ("chapter", 0.005, 256)
    args = build_parser("torch").parse_args(["--preset", "paper", "--lr", "0.001"])
    c = config_from_args(args)
    assert (c.preset, c.lr, c.batch_size) == ("paper", 0.001, 128)
    assert Config.from_json(c.to_json()) == c


def test_the_batchnorm_initialisation_is_chosen_on_the_command_line_and_recorded():
    c = config_from_args(build_parser("torch").parse_args(["--bn-init", "one"]))
    assert c.bn_init == "one" and Config.from_json(c.to_json()).bn_init == "one"
    assert Config().bn_init == "normal"
    with pytest.raises(ValueError, match="bn_init must be one of normal, one"):
        Config(bn_init="zero")
