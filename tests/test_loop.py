"""The shared epoch loop: the chapter's bookkeeping, and a clear stop when training diverges."""

import math

import pytest

from dcgan.loop import TrainingDiverged, final_line, train_epochs


def batches(sizes):
    return [(list(range(n)), None) for n in sizes]


def test_losses_are_averaged_per_example_over_the_epoch():
    def step(X, epoch, i):
        return 2.0 * len(X), 4.0 * len(X), len(X)  # summed over the batch, as the contract says

    (metrics,) = train_epochs(step, batches([4, 4, 2]), 1, progress=False)
    assert (metrics.loss_D, metrics.loss_G, metrics.examples) == (2.0, 4.0, 10)
    assert final_line(metrics, "cpu").startswith("loss_D 2.000, loss_G 4.000, ")
    assert final_line(metrics, "cpu").endswith(" examples/sec on cpu")


def test_a_nan_loss_stops_training_naming_the_epoch_and_step():
    calls = []

    def step(X, epoch, i):
        calls.append(1)
        return (math.nan if len(calls) == 5 else 1.0), 1.0, len(X)

    ended = []
    with pytest.raises(TrainingDiverged, match="epoch 2, step 2"):
        train_epochs(step, batches([2, 2, 2]), 3, on_epoch_end=ended.append, progress=False)
    assert [m.epoch for m in ended] == [1], "the completed epoch was reported before the stop"


class _Unread:
    """A loss a device is still computing: ``float()`` waits for it, and records when."""

    def __init__(self, value, step, log):
        self.value, self.step, self.log = value, step, log

    def __float__(self):
        self.log.append(("read", self.step))
        return self.value


def test_each_steps_losses_are_read_after_the_next_step_is_queued():
    log = []

    def step(X, epoch, i):
        log.append(("queued", i))
        return _Unread(1.0 * len(X), i, log), _Unread(3.0 * len(X), i, log), len(X)

    (metrics,) = train_epochs(step, batches([2, 2, 1]), 1, progress=False)
    assert log == [("queued", 1), ("queued", 2), ("read", 1), ("read", 1),
                   ("queued", 3), ("read", 2), ("read", 2), ("read", 3), ("read", 3)]
    assert (metrics.loss_D, metrics.loss_G, metrics.examples) == (1.0, 3.0, 5)


def test_a_nan_read_one_step_late_still_names_its_own_step():
    def step(X, epoch, i):
        return _Unread(math.nan if i == 2 else 1.0, i, []), 1.0, len(X)

    with pytest.raises(TrainingDiverged, match="epoch 1, step 2"):
        train_epochs(step, batches([2, 2, 2]), 1, progress=False)
