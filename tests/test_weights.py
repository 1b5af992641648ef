"""The canonical weight format: names from the chapter, one layout, safe loading."""

import numpy as np
import pytest

from dcgan.weights import (
    WeightsError,
    canonical_shapes,
    check_arrays,
    check_weights_file,
    init_weights,
    load_weights,
    save_weights,
)


def test_the_initial_weights_are_the_chapters_normal_draw_and_repeatable():
    a, b = init_weights(7), init_weights(7)
    learned = np.concatenate([v.ravel() for n in a for k, v in a[n].items()
                              if "running" not in k])
    assert abs(learned.mean()) < 1e-3 and abs(learned.std() - 0.02) < 1e-3
    for net in a:
        for name in a[net]:
            assert np.array_equal(a[net][name], b[net][name])
    assert np.all(a["net_G"]["0.batch_norm.running_var"] == 1)
    assert np.all(a["net_G"]["0.batch_norm.running_mean"] == 0)
    assert not np.array_equal(init_weights(8)["net_D"]["0.conv2d.weight"],
                              a["net_D"]["0.conv2d.weight"])


def test_the_mxnet_tabs_batchnorm_starts_at_scale_one_and_shift_zero():
    normal, one = init_weights(7), init_weights(7, bn_init="one")
    for net in one:
        for name, value in one[net].items():
            if name.endswith(".gamma"):
                assert np.all(value == 1), name
            elif name.endswith(".beta"):
                assert np.all(value == 0), name
            else:  # the convolutions and running statistics are the chapter's draw
                assert np.array_equal(value, normal[net][name]), name
    with pytest.raises(ValueError, match="bn_init must be one of normal, one"):
        init_weights(7, bn_init="ones")


def test_names_follow_the_chapters_structure_in_the_nchw_layout():
    shapes = canonical_shapes()
    assert shapes["net_G"]["0.conv2d_trans.weight"] == (100, 512, 4, 4)  # (in, out, kh, kw)
    assert shapes["net_D"]["1.conv2d.weight"] == (128, 64, 4, 4)  # (out, in, kh, kw)
    assert shapes["net_D"]["4.conv2d.weight"] == (1, 512, 4, 4)
    assert "4.batch_norm.gamma" not in shapes["net_G"]


def test_save_and_load_round_trip(tmp_path):
    weights = init_weights(1)
    loaded = load_weights(save_weights(tmp_path / "w.safetensors", weights))
    assert set(loaded) == {"net_G", "net_D"}
    for net in weights:
        for name in weights[net]:
            assert np.array_equal(weights[net][name], loaded[net][name])


def test_every_mismatch_is_listed_at_once():
    expected = {"a": (2, 3), "b": (4,), "c": (1,)}
    given = {"a": np.zeros((3, 2)), "b": np.zeros(4), "z": np.zeros(1)}
    with pytest.raises(WeightsError) as err:
        check_arrays(expected, given, "the file")
    message = str(err.value)
    assert "missing c" in message and "unexpected z" in message
    assert "a: shape (3, 2), expected (2, 3)" in message


@pytest.mark.parametrize("content", [b"", b"not a weights file", b"\x10\x00\x00\x00\x00\x00"])
def test_a_foreign_or_truncated_file_is_a_clear_error(tmp_path, content):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(content)
    with pytest.raises(WeightsError, match="bad.safetensors"):
        load_weights(path)


def test_a_file_for_other_sizes_is_refused_before_a_run(tmp_path):
    path = save_weights(tmp_path / "small.safetensors", init_weights(0, n_G=16, n_D=16))
    with pytest.raises(WeightsError, match="expected"):
        check_weights_file(path)
    check_weights_file(path, n_G=16, n_D=16)


def test_saving_is_atomic_and_leaves_no_temporary_files(tmp_path):
    save_weights(tmp_path / "w.safetensors", init_weights(0))
    assert [p.name for p in tmp_path.iterdir()] == ["w.safetensors"]


def test_a_loaded_net_refuses_mismatched_weights_untouched(backend):
    net = backend.net_G()
    before = backend.to_canonical(net)
    bad = dict(init_weights(0)["net_G"])
    bad.pop("1.batch_norm.gamma")
    bad["0.conv2d_trans.weight"] = np.zeros((1, 2, 3, 4), np.float32)
    with pytest.raises(WeightsError, match="missing 1.batch_norm.gamma"):
        backend.from_canonical(net, bad)
    after = backend.to_canonical(net)
    assert all(np.array_equal(before[k], after[k]) for k in before)
