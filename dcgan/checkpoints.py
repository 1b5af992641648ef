"""Checkpoints: everything a run needs to go on exactly where it stopped.

A checkpoint is one safetensors file, ``checkpoint.safetensors`` in the run
folder, written the same way by every backend:

* ``net_D/<name>``, ``net_G/<name>``: both nets in the canonical layout
  (``dcgan.weights``), BatchNorm running statistics included;
* ``trainer_D/<key>``, ``trainer_G/<key>``: the optimizers' state (Adam's
  moments and step counts) under the backend's own keys (each backend's
  ``trainer_state``), so a checkpoint resumes only in the backend that wrote
  it, while its nets load anywhere;
* one metadata entry, ``dcgan-checkpoint``: JSON with the backend, the
  config, the position (epoch, batches done in it, the epoch's partial
  sums) and the metrics of the finished epochs.

The random-generator state is the seed in the config plus the position:
every draw of a run is keyed by them (``dcgan.randomness``). The file is
written to a temporary name and renamed, so a crash while writing leaves the
previous checkpoint in place. safetensors holds arrays and text only, so
loading a checkpoint never runs code from the file (what ``torch.load`` needs
``weights_only=True`` for).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from dcgan.config import Config
from dcgan.files import atomic_path
from dcgan.loop import EpochMetrics, Position
from dcgan.weights import NETS, Arrays, canonical_shapes, check_arrays

CHECKPOINT_FILE = "checkpoint.safetensors"
FORMAT = "dcgan-checkpoint"
FORMAT_VERSION = 1
TRAINERS = ("trainer_D", "trainer_G")


class CheckpointError(ValueError):
    """A file that is not a usable checkpoint; the message says what is wrong and what to do."""


@dataclass
class Checkpoint:
    """The state of a run between two steps."""

    backend: str
    config: Config
    position: Position
    history: list[EpochMetrics] = field(default_factory=list)
    nets: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    trainers: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)


def capture(net_D: Any, net_G: Any, trainer_D: Any, trainer_G: Any,
            to_canonical: Callable[[Any], Arrays],
            trainer_state: Callable[[Any], Arrays]) -> dict[str, dict[str, dict[str, np.ndarray]]]:
    """The arrays of a checkpoint: ``{"nets": ..., "trainers": ...}`` from a backend's objects."""
    return {"nets": {"net_D": dict(to_canonical(net_D)), "net_G": dict(to_canonical(net_G))},
            "trainers": {"trainer_D": dict(trainer_state(trainer_D)),
                         "trainer_G": dict(trainer_state(trainer_G))}}


def restore(checkpoint: Checkpoint, net_D: Any, net_G: Any, trainer_D: Any, trainer_G: Any,
            from_canonical: Callable[[Any, Arrays], None],
            load_trainer_state: Callable[[Any, Arrays], None]) -> None:
    """Put a checkpoint's nets and optimizer state into a backend's objects."""
    from_canonical(net_D, checkpoint.nets["net_D"])
    from_canonical(net_G, checkpoint.nets["net_G"])
    load_trainer_state(trainer_D, checkpoint.trainers["trainer_D"])
    load_trainer_state(trainer_G, checkpoint.trainers["trainer_G"])


def save_checkpoint(path: str | os.PathLike, checkpoint: Checkpoint) -> Path:
    """Write ``checkpoint`` to ``path`` atomically (the old file stays until the new one is
    complete)."""
    from safetensors.numpy import save

    flat = {f"{group}/{name}": np.ascontiguousarray(array)
            for groups in (checkpoint.nets, checkpoint.trainers)
            for group, arrays in groups.items() for name, array in arrays.items()}
    meta = {"format_version": FORMAT_VERSION, "backend": checkpoint.backend,
            "config": json.loads(checkpoint.config.to_json()),
            "position": asdict(checkpoint.position),
            "history": [asdict(m) for m in checkpoint.history]}
    data = save(flat, metadata={FORMAT: json.dumps(meta, sort_keys=True)})
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def _read(path: Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The arrays and the metadata of a checkpoint file, or a CheckpointError saying why not."""
    from safetensors import SafetensorError, safe_open

    what = f"{path} is not a dcgan checkpoint"
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist; a run folder has one after "
                              f"its first epoch or an interruption")
    try:
        with safe_open(str(path), framework="numpy") as f:
            metadata = f.metadata() or {}
            arrays = {key: f.get_tensor(key) for key in f.keys()}
    except (SafetensorError, OSError, ValueError) as err:
        raise CheckpointError(f"{what} (it is truncated or in another format: {err}); "
                              f"resume from an intact run folder") from err
    if FORMAT not in metadata:
        raise CheckpointError(f"{what}: it is a safetensors file without the {FORMAT!r} "
                              f"metadata (canonical weights go to --init-from, not --resume)")
    try:
        meta = json.loads(metadata[FORMAT])
    except json.JSONDecodeError as err:
        raise CheckpointError(f"{what}: its {FORMAT!r} metadata is not JSON ({err})") from err
    if meta.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(f"{path} is a dcgan checkpoint of format version "
                              f"{meta.get('format_version')!r}; this dcgan reads version "
                              f"{FORMAT_VERSION}")
    return arrays, meta


def load_checkpoint(path: str | os.PathLike, backend: str | None = None) -> Checkpoint:
    """Read a checkpoint; refuse a truncated, foreign or mismatched file with a clear error.

    With ``backend``, a checkpoint written by another backend is refused too
    (its optimizer state is in that framework's keys).
    """
    path = Path(path)
    arrays, meta = _read(path)
    if backend is not None and meta["backend"] != backend:
        raise CheckpointError(
            f"{path} was written by the {meta['backend']} backend; resume it with "
            f"python -m dcgan.{meta['backend']}.train --resume, or start a {backend} run from "
            f"its weights with --init-from")
    groups: dict[str, dict[str, np.ndarray]] = {}
    for key, array in arrays.items():
        group, _, name = key.partition("/")
        if group not in (*NETS, *TRAINERS) or not name:
            raise CheckpointError(f"{path} holds {key!r}, which no dcgan checkpoint has")
        groups.setdefault(group, {})[name] = array
    try:
        config = Config(**{**meta["config"], "classes": tuple(meta["config"]["classes"])
                           if meta["config"].get("classes") else None})
        checkpoint = Checkpoint(
            backend=meta["backend"], config=config, position=Position(**meta["position"]),
            history=[EpochMetrics(**m) for m in meta["history"]],
            nets={net: groups.get(net, {}) for net in NETS},
            trainers={t: groups.get(t, {}) for t in TRAINERS})
    except (KeyError, TypeError, ValueError) as err:
        raise CheckpointError(f"{path} is a damaged dcgan checkpoint: {err!r}") from err
    expected = canonical_shapes(config.latent_dim, config.n_G, config.n_D)
    try:
        for net in NETS:
            check_arrays(expected[net], checkpoint.nets[net], f"{path} ({net})")
    except ValueError as err:
        raise CheckpointError(str(err)) from err
    return checkpoint

