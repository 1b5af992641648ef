"""Sample grids and loss curves, shared by the command line and the notebooks.

The chapter shows 21 generated images as 3 rows of 7 beside the two loss
curves; :func:`image_grid` builds that mosaic exactly (pixel for pixel, no
resampling) and :func:`plot_losses` draws the curves on any matplotlib axes,
so a notebook's live plot and the PNGs of a run come from the same code.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from dcgan.config import SAMPLE_COLS
from dcgan.files import atomic_path
from dcgan.shapes import Layout


def display_images(images: np.ndarray, layout: Layout) -> np.ndarray:
    """Generator output in [-1, 1] and ``layout`` as NHWC floats in [0, 1] for showing."""
    images = np.asarray(images, dtype=np.float32)
    if layout == "NCHW":
        images = images.transpose(0, 2, 3, 1)
    return np.clip(images / 2 + 0.5, 0.0, 1.0)


def image_grid(images: np.ndarray, cols: int = SAMPLE_COLS) -> np.ndarray:
    """NHWC images in [0, 1] tiled row by row into one (rows*H, cols*W, C) mosaic.

    A last row with fewer than ``cols`` images is padded with white.
    """
    n, h, w, c = images.shape
    rows = -(-n // cols)
    grid = np.ones((rows * h, cols * w, c), dtype=images.dtype)
    for i, image in enumerate(images):
        r, col = divmod(i, cols)
        grid[r * h:(r + 1) * h, col * w:(col + 1) * w] = image
    return grid


def save_image_grid(images: np.ndarray, path: str | os.PathLike, cols: int = SAMPLE_COLS) -> Path:
    """Save NHWC images in [0, 1] as one PNG mosaic at their own resolution."""
    from PIL import Image

    grid = (image_grid(images, cols) * 255).round().astype(np.uint8)
    if grid.shape[-1] == 1:
        grid = grid[..., 0]
    with atomic_path(path, suffix=".png") as tmp:
        Image.fromarray(grid).save(tmp, format="PNG")
    return Path(path)


def save_animation(frames: Sequence[np.ndarray], path: str | os.PathLike,
                   seconds_per_frame: float = 0.25, hold_last: int = 1) -> Path:
    """An animated GIF of HWC frames in [0, 1], looping; the last frame is shown
    ``hold_last`` times as long."""
    from PIL import Image

    images = [Image.fromarray((np.asarray(f) * 255).round().astype(np.uint8)) for f in frames]
    durations = [int(seconds_per_frame * 1000)] * len(images)
    durations[-1] *= hold_last
    with atomic_path(path, suffix=".gif") as tmp:
        images[0].save(tmp, format="GIF", save_all=True, append_images=images[1:],
                       duration=durations, loop=0)
    return Path(path)


def plot_losses(history: Sequence[Any], ax: Any = None, label_suffix: str = "") -> Any:
    """Draw discriminator and generator loss per epoch (objects with ``epoch``, ``loss_D``,
    ``loss_G``, or dicts with those keys) on ``ax``; returns the axes."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.5))
    rows = [h if isinstance(h, dict) else vars(h) for h in history]
    epochs = [r["epoch"] for r in rows]
    ax.plot(epochs, [r["loss_D"] for r in rows], marker="o", label=f"discriminator{label_suffix}")
    ax.plot(epochs, [r["loss_G"] for r in rows], marker="o", linestyle="--",
            label=f"generator{label_suffix}")
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    if epochs:  # half an epoch of margin: one epoch is a point, not a degenerate axis
        low, high = ax.get_xlim()
        ax.set_xlim(min(low, min(epochs) - 0.5), max(high, max(epochs) + 0.5))
        if max(epochs) - min(epochs) < 10:
            ax.set_xticks(range(min(epochs), max(epochs) + 1))
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss per example")
    ax.grid(True, alpha=0.3)
    ax.legend()
    return ax


def save_loss_plot(history: Sequence[Any] | Mapping[str, Sequence[Any]],
                   path: str | os.PathLike, title: str = "") -> Path:
    """Save :func:`plot_losses` of ``history`` as a PNG; a mapping ``{label: history}``
    (one run per backend) draws them all on the same axes.

    Uses a bare ``Figure`` rather than pyplot, so it neither needs a display
    nor disturbs a notebook's plotting backend.
    """
    from matplotlib.figure import Figure

    histories = history if isinstance(history, Mapping) else {"": history}
    fig = Figure(figsize=(6, 4) if len(histories) > 1 else (5, 3.5))
    ax = fig.subplots()
    for label, runs in histories.items():
        plot_losses(runs, ax, f" ({label})" if label else "")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    return Path(path)


QUALITY_PANELS = (("SWD x1e3", "swd_average", "lower is better"),
                  ("FD, classifier features", "fd", "lower is better"),
                  ("precision", "precision", "higher is better"),
                  ("recall", "recall", "higher is better"),
                  ("classes covered", "coverage", "higher is better"))
"""The quality metrics drawn per epoch, one panel each: (title, key, which way is good)."""


def _quality_value(quality: dict, key: str) -> float | None:
    if key == "coverage":
        return quality["classes_covered"] / quality["classes_present"] \
            if "classes_covered" in quality else None
    return quality.get(key)


def plot_quality(history: Sequence[Any], axes: Sequence[Any], label: str = "",
                 color: Any = None) -> None:
    """Draw the quality metrics of the evaluated epochs of ``history`` (rows or
    ``EpochMetrics`` with a ``quality`` entry), one metric per axes of ``axes``
    (:data:`QUALITY_PANELS`), each with the noise floor of the last evaluated epoch as a
    dotted line of the same colour."""
    rows = [h if isinstance(h, dict) else vars(h) for h in history]
    rows = [r for r in rows if r.get("quality")]
    if not rows:
        return
    epochs = [r["epoch"] for r in rows]
    for ax, (_, key, _) in zip(axes, QUALITY_PANELS):
        values = [_quality_value(r["quality"], key) for r in rows]
        if values[-1] is None:
            continue
        (line,) = ax.plot(epochs, values, marker="o", label=label or None, color=color)
        floor = _quality_value(rows[-1]["quality"]["noise_floor"], key)
        ax.axhline(floor, color=line.get_color(), linestyle=":", linewidth=1)


def save_quality_plot(history: Sequence[Any] | Mapping[str, Sequence[Any]],
                      path: str | os.PathLike, title: str = "") -> Path:
    """Save :func:`plot_quality` of ``history`` (or ``{label: history}``, one run per
    backend, one colour each) as a PNG: one panel per metric, the noise floor dotted."""
    from matplotlib.figure import Figure

    histories = history if isinstance(history, Mapping) else {"": history}
    fig = Figure(figsize=(14, 3.2))
    axes = fig.subplots(1, len(QUALITY_PANELS))
    for label, runs in histories.items():
        plot_quality(runs, axes, label)
    for ax, (name, key, direction) in zip(axes, QUALITY_PANELS):
        ax.set_title(f"{name}\n({direction})", fontsize="medium")
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(_integer_locator())
        ax.grid(True, alpha=0.3)
        if key in ("swd_average", "fd"):
            ax.set_yscale("log")
        else:
            ax.set_ylim(-0.03, 1.03)
    if len(histories) > 1:
        axes[-1].legend(fontsize="small", loc="best")
    fig.suptitle(f"{title}{': ' if title else ''}sample quality per epoch "
                 f"(dotted: real images, the noise floor)", fontsize="medium")
    fig.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    return Path(path)


def _integer_locator() -> Any:
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(integer=True, min_n_ticks=1)


class LivePlot:
    """The loss curves and the latest fixed-noise grid, redrawn in a notebook as each epoch
    ends: the chapter's animator, from the same code as the PNGs of a run.

    Pass it as ``run=`` to any backend's ``train`` (it has the ``end_epoch``
    of :class:`dcgan.runs.RunFolder`).
    """

    def __init__(self, layout: Layout, title: str = "") -> None:
        self.layout = layout
        self.title = title
        self.history: list[Any] = []

    def end_epoch(self, metrics: Any, samples: np.ndarray, state: Any = None,
                  draw: Any = None) -> None:
        """Record an epoch and redraw the figure in place (``state``, the arrays a run
        folder checkpoints, and ``draw``, for quality metrics, are not needed here)."""
        import matplotlib.pyplot as plt
        from IPython import display

        self.history.append(metrics)
        fig, (ax_loss, ax_images) = plt.subplots(
            1, 2, figsize=(10, 3.2), gridspec_kw={"width_ratios": [1, 1.8]})
        plot_losses(self.history, ax_loss)
        if self.title:
            ax_loss.set_title(self.title)
        ax_images.imshow(image_grid(display_images(samples, self.layout)))
        ax_images.set_axis_off()
        ax_images.set_title(f"epoch {metrics.epoch}")
        fig.tight_layout()
        display.clear_output(wait=True)
        display.display(fig)
        plt.close(fig)


def show_images(images: np.ndarray, layout: Layout, cols: int = 10, ax: Any = None) -> Any:
    """Show a batch of images in [-1, 1] (as the pipelines give them) as one grid."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(cols * 0.9, -(-len(images) // cols) * 0.9))
    ax.imshow(image_grid(display_images(images, layout), cols))
    ax.set_axis_off()
    return ax
