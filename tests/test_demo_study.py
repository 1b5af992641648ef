"""The study scripts of docs/demo-study.md, docs/exercises.md and README's Precision
(docs/demo_study.py, docs/alpha_study.py, docs/precision_study.py): the tables they print
from a run folder. Their training runs are
the chapter's train command, tested elsewhere."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

FLOOR = {"swd_average": 20.0, "fd": 30.0, "precision": 0.9, "recall": 0.85,
         "classes_covered": 4}


def fake_run(folder: Path, batch_size: int, qualities: list[dict | None]) -> Path:
    """A run folder with ``config.json`` and one ``metrics.jsonl`` line per epoch of 100
    images, measured where ``qualities`` holds a dict."""
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"batch_size": batch_size}))
    lines = [{"epoch": k + 1, "loss_D": 0.5, "loss_G": 2.0, "examples": 100, "seconds": 1.0,
              **({"quality": {**q, "noise_floor": FLOOR}} if q else {})}
             for k, q in enumerate(qualities)]
    (folder / "metrics.jsonl").write_text("\n".join(map(json.dumps, lines)) + "\n")
    return folder


def test_a_variants_folder_name_is_its_words(doc_script):
    study = doc_script("demo_study")
    assert study.folder_name("paper, batch 64, BatchNorm 1/0") == "paper-batch-64-batchnorm-1-0"
    assert len({study.folder_name(v) for v in study.VARIANTS}) == len(study.VARIANTS)
    assert study.folder_name("chapter", "tensorflow", 0) == "chapter-tensorflow-seed0"
    assert study.folder_name("chapter", "torch", 2) == "chapter-torch-seed2"
    assert study.title("chapter") == "chapter"
    assert study.title("chapter", "mxnet", 0) == "chapter, mxnet, seed 0"


def test_a_changed_discriminator_is_refused_for_another_backend_before_training(doc_script,
                                                                                capsys):
    study = doc_script("demo_study")
    with pytest.raises(SystemExit) as stopped:
        study.main(["--backend", "tensorflow", "--variants", study.FRAME_LIKE,
                    study.FRAME_LIKE_WITHOUT_FIRST_BATCH_NORM])
    assert stopped.value.code == 2
    assert "are PyTorch's only" in capsys.readouterr().err


def test_measured_epochs_know_their_training_step(doc_script, tmp_path):
    study = doc_script("demo_study")
    q = {"swd_average": 150.0, "fd": 400.0, "precision": 0.5, "recall": 0.25,
         "classes_covered": 3, "classes_present": 4}
    run = fake_run(tmp_path / "run", batch_size=64, qualities=[q, None, q])
    rows = study.measured_epochs(run)
    assert [(r["epoch"], r["step"]) for r in rows] == [(1, 2), (3, 6)]  # ceil(100 / 64) a epoch
    assert study.last_row("chapter", run) == \
        "| chapter | 6 | 0.50 / 2.00 | 150 (20) | 400 (30) | 0.50 (0.90) | 0.25 (0.85) | 3/4 |"


def test_the_alpha_tables_put_both_runs_beside_the_floor(doc_script, tmp_path):
    study = doc_script("alpha_study")
    q = {"swd_average": 150.0, "fd": 400.0, "precision": 0.5, "recall": 0.25,
         "classes_covered": 3}
    runs = {}
    for alpha, recall in (("0.2", 0.25), ("0", 0.0)):
        run = fake_run(tmp_path / alpha, 64, [None, {**q, "recall": recall}])
        (run / "quality.json").write_text(json.dumps(
            {"metrics": {**q, "recall": recall}, "noise_floor": FLOOR}))
        runs[alpha] = run
    losses = study.loss_table(runs).splitlines()
    assert losses[-1] == "| 2 | 0.500, 2.000, 150, 400 | 0.500, 2.000, 150, 400 |"
    assert "nan" in losses[-2]  # epoch 1 was not measured
    assert "| recall | 0.25 | 0.00 | 0.85 |" in study.quality_table(runs)


def test_the_precision_study_row_reads_the_last_measurement_and_the_speed(doc_script,
                                                                          tmp_path):
    study = doc_script("precision_study")
    q = {"swd_average": 150.0, "fd": 400.0, "precision": 0.5, "recall": 0.25,
         "classes_covered": 3, "classes_present": 4}
    run = fake_run(tmp_path / "run", batch_size=64, qualities=[None, q])
    assert study.row("torch", "bf16", run) == ("| torch | bf16 | 0.50 / 2.00 | 150 (20) | "
                                               "400 (30) | 0.50 (0.90) | 0.25 (0.85) | 3/4 | "
                                               "100.0 |")
    assert all(cases[0] == "fp32" for cases in study.CASES.values())


def test_white_sprites_keep_the_creature_and_paint_the_background_white(doc_script,
                                                                        tiny_image_folder,
                                                                        tmp_path):
    import numpy as np
    from PIL import Image

    study = doc_script("demo_study")
    white = study.white_sprites(tiny_image_folder, tmp_path)
    originals = sorted(tiny_image_folder.glob("*/*.png"))
    assert [p.relative_to(white) for p in sorted(white.glob("*/*.png"))] == \
        [p.relative_to(tiny_image_folder) for p in originals]
    for path in originals:
        before = np.asarray(Image.open(path).convert("RGB"))
        after = np.asarray(Image.open(white / path.relative_to(tiny_image_folder)))
        background = before[0, 0]
        assert (after[[0, 0, -1, -1], [0, -1, 0, -1]] == 255).all()
        changed = (after != before).any(axis=-1)
        assert (before[changed] == background).all(), "only background pixels are painted"
        assert changed.mean() > 0.5 and (after[32, 32] == before[32, 32]).all()
    assert study.white_sprites(tiny_image_folder, tmp_path) == white  # made once


def test_placed_sprites_keep_their_class_and_background_and_move_the_creature(
        doc_script, tiny_image_folder, tmp_path):
    import numpy as np
    from PIL import Image

    study = doc_script("demo_study")
    placed = study.placed_sprites(tiny_image_folder, tmp_path)
    originals = sorted(tiny_image_folder.glob("*/*.png"))
    assert [p.relative_to(placed) for p in sorted(placed.glob("*/*.png"))] == \
        [p.relative_to(tiny_image_folder) for p in originals]
    moved = 0
    for path in originals:
        before = np.asarray(Image.open(path).convert("RGB"))
        after = np.asarray(Image.open(placed / path.relative_to(tiny_image_folder)))
        background = before[0, 0]
        assert (after[0, 0] == background).all()
        assert set(map(tuple, after.reshape(-1, 3))) <= set(map(tuple, before.reshape(-1, 3)))
        moved += not np.array_equal(before, after)
    assert moved == len(originals)
    assert study.placed_sprites(tiny_image_folder, tmp_path) == placed  # made once


def test_grainy_sprites_are_the_sprites_plus_a_fixed_grain(doc_script, tiny_image_folder,
                                                            tmp_path):
    import numpy as np
    from PIL import Image

    study = doc_script("demo_study")
    grainy = study.grainy_sprites(tiny_image_folder, tmp_path, sigma=8.0)
    for path in sorted(tiny_image_folder.glob("*/*.png")):
        before = np.asarray(Image.open(path).convert("RGB"), dtype=np.float64)
        after = np.asarray(Image.open(grainy / path.relative_to(tiny_image_folder)),
                           dtype=np.float64)
        inside = (before > 40) & (before < 215)  # where clipping cannot shrink the grain
        assert abs((after - before)[inside].std() - 8.0) < 1.0
        assert abs((after - before)[inside].mean()) < 1.0


def test_the_frame_like_variants_train_on_the_packages_frame_like_sprites(doc_script,
                                                                        tiny_image_folder,
                                                                        tmp_path):
    from dcgan.datasets import frame_like_sprites, list_images

    study = doc_script("demo_study")
    folder = study.frame_like(tiny_image_folder, tmp_path)
    assert folder == frame_like_sprites(tmp_path, count=8)
    assert len(list_images(folder)) == 8


def test_a_variants_data_changes_are_made_in_their_order(doc_script, tiny_image_folder,
                                                         tmp_path):
    study = doc_script("demo_study")
    combined = "paper, batch 64, BatchNorm 1/0, sprites without faces, placed anywhere, with grain"
    folder = study.transformed(combined, tiny_image_folder, tmp_path)
    assert folder.name == f"{tiny_image_folder.name}-faceless-placed-anywhere-grain-8"
    assert len(list(folder.glob("*/*.png"))) == 8
    assert study.transformed("paper, batch 64, BatchNorm 1/0", tiny_image_folder, tmp_path) \
        == tiny_image_folder
    assert set(study.DATA_CHANGES) <= set(study.VARIANTS)


def test_without_its_first_batch_norm_the_discriminator_leaves_that_layer_untrained(
        doc_script, tiny_image_folder, tmp_path):
    pytest.importorskip("torch", reason="PyTorch is not installed")
    import numpy as np

    from dcgan.weights import init_weights, load_weights

    study = doc_script("demo_study")
    run = tmp_path / "run"
    assert study.train_with_changed_discriminator(
        "paper, batch 64, BatchNorm 1/0, no BatchNorm in D's first block",
        ["--data-dir", str(tiny_image_folder), "--epochs", "1", "--batch-size", "4",
         "--num-workers", "0", "--device", "cpu", "--eval-every", "0", "--out", str(run)]) == 0
    trained, initial = load_weights(run / "weights.safetensors")["net_D"], init_weights(0)["net_D"]
    for name in ("0.batch_norm.gamma", "0.batch_norm.running_mean"):
        np.testing.assert_array_equal(trained[name], initial[name])
    assert not np.array_equal(trained["1.batch_norm.gamma"], initial["1.batch_norm.gamma"])


def test_instance_noise_reaches_the_discriminator_in_training_only(doc_script):
    torch = pytest.importorskip("torch", reason="PyTorch is not installed")
    from dcgan.torch.nets import forward, net_D

    study = doc_script("demo_study")
    torch.manual_seed(0)
    plain, noisy = net_D(), study.with_instance_noise(net_D())
    noisy.load_state_dict(plain.state_dict())
    X = torch.rand(4, 3, 64, 64) * 2 - 1
    seen = []
    noisy[0].register_forward_pre_hook(lambda module, args: seen.append(args[0]))
    with torch.no_grad():
        torch.testing.assert_close(forward(noisy, X, training=False),
                                   forward(plain, X, training=False))
        forward(noisy, X, training=True)
    assert torch.equal(seen[0], X)
    assert (seen[1] - X).std() == pytest.approx(study.INSTANCE_NOISE, rel=0.05)
    assert set(study.DISCRIMINATOR_CHANGES) <= set(study.VARIANTS)


def test_the_discriminator_is_read_as_the_variant_built_it(doc_script, tiny_image_folder,
                                                           tmp_path, monkeypatch):
    pytest.importorskip("torch", reason="PyTorch is not installed")
    import math

    from dcgan.weights import init_weights, save_weights

    study = doc_script("demo_study")
    monkeypatch.setattr(study, "data_folder", lambda variant: tiny_image_folder)
    save_weights(tmp_path / "weights.safetensors", init_weights(0))
    chapter = study.discriminator_outputs("paper, batch 64, BatchNorm 1/0", tmp_path, num=8,
                                          batch_size=4)
    variant = "paper, batch 64, BatchNorm 1/0, no BatchNorm in D's first block"
    without = study.discriminator_outputs(variant, tmp_path, num=8, batch_size=4)
    assert list(chapter) == ["training", "held out", "samples",
                             "training, ground in the samples' shade"]
    assert all(math.isfinite(v) for v in [*chapter.values(), *without.values()])
    assert chapter != without


def test_the_ground_in_the_samples_shade_changes_only_the_ground(doc_script):
    study = doc_script("demo_study")
    images = np.ones((2, 4, 4, 3), np.float32)
    images[:, 1:3, 1:3] = -0.5  # the creature
    samples = np.zeros((3, 4, 4, 3), np.float32)
    samples[:, 0, 0] = [0.2, 0.4, 0.6]
    shaded = study.in_shade_of(images, samples)
    np.testing.assert_array_equal(shaded[:, 1:3, 1:3], images[:, 1:3, 1:3])
    np.testing.assert_allclose(shaded[:, 0, 0], [[0.2, 0.4, 0.6]] * 2)
    np.testing.assert_allclose(shaded[:, 3, 3], [[0.2, 0.4, 0.6]] * 2)
