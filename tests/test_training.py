"""One step of the chapter's training, and a whole (tiny) training run, in every backend."""

import numpy as np
from conftest import nets_from, random_batch

from dcgan.config import Config


def max_change(before, after):
    return max(float(np.abs(after[k] - before[k]).max()) for k in before)


def test_one_training_step_gives_finite_losses_and_changes_both_nets(backend):
    net_D, net_G = nets_from(backend)
    loss = backend.make_loss()
    trainer_D, trainer_G = backend.make_trainers(net_D, net_G, lr=0.005)
    X = random_batch(backend, (4, 3, 64, 64), seed=1)
    Z = random_batch(backend, (4, 100, 1, 1), seed=2)
    before_D, before_G = backend.to_canonical(net_D), backend.to_canonical(net_G)

    loss_D = backend.update_D(X, Z, net_D, net_G, loss, trainer_D)
    after_D, mid_G = backend.to_canonical(net_D), backend.to_canonical(net_G)
    loss_G = backend.update_G(Z, net_D, net_G, loss, trainer_G)
    after_G = backend.to_canonical(net_G)

    assert isinstance(loss_D, float) and isinstance(loss_G, float)
    assert np.isfinite(loss_D) and np.isfinite(loss_G)
    # Summed over the batch of 4: about 4 * log(2) for a discriminator that cannot tell yet.
    assert 0.5 < loss_D < 10 and 0.5 < loss_G < 20
    assert max_change(before_D, after_D) > 1e-4
    assert max_change(mid_G, after_G) > 1e-4
    learned_G = {k for k in before_G if "running" not in k}
    assert all(np.array_equal(before_G[k], mid_G[k]) for k in learned_G), \
        "update_D must not change the generator's learned weights"


def test_the_generator_output_lies_in_the_open_interval_minus_one_one(backend):
    net_D, net_G = nets_from(backend)
    Z = random_batch(backend, (8, 100, 1, 1), seed=3, low=-3, high=3)
    images = backend.generate(net_G, Z)
    assert images.shape[0] == 8
    assert np.all(images > -1) and np.all(images < 1)
    assert images.std() > 0


def _train_once(backend, folder, seed):
    backend.set_seed(seed)
    net_D, net_G = backend.net_D(), backend.net_G()
    data_iter = backend.load_data(folder, batch_size=4, num_workers=0, seed=seed)
    config = Config(num_epochs=1, batch_size=4, seed=seed, dataset="sprites")
    history = backend.train(net_D, net_G, data_iter, 1, config.lr, config.latent_dim,
                            backend.resolve_device("cpu"), config=config)
    return history, backend.to_canonical(net_G)


def test_two_cpu_runs_with_the_same_seed_give_the_same_losses(backend, tiny_image_folder):
    first, weights_1 = _train_once(backend, tiny_image_folder, seed=5)
    second, weights_2 = _train_once(backend, tiny_image_folder, seed=5)
    assert [(m.loss_D, m.loss_G) for m in first] == [(m.loss_D, m.loss_G) for m in second]
    assert first[0].examples == 8
    assert max_change(weights_1, weights_2) == 0.0


def test_the_data_pipeline_gives_the_chapters_batches(backend, tiny_image_folder):
    from dcgan.shapes import in_layout

    batches = list(backend.load_data(tiny_image_folder, batch_size=4, num_workers=0))
    assert len(batches) == 2
    X = backend.as_numpy(batches[0][0])
    assert X.shape == in_layout((4, 3, 64, 64), backend.LAYOUT)
    assert X.dtype == np.float32
    assert -1.0 <= X.min() < -0.5 and 0.5 < X.max() <= 1.0
