"""The chapter's hyperparameters, written once in dcgan.config."""

import pytest

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
])
def test_invalid_values_are_refused_with_the_field_named(field, value, words):
    with pytest.raises(ValueError, match=words):
        Config(**{field: value})


def test_json_round_trip_and_unknown_keys():
    c = Config(num_epochs=3, dataset="sprites")
    assert Config.from_json(c.to_json()) == c
    with pytest.raises(ValueError, match="unknown configuration keys"):
        Config.from_json('{"epochs": 3}')
