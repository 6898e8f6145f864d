"""Figures the chapters share: every one titled, with labelled axes."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np


def curves(
    series: Mapping[str, Sequence[float]],
    title: str,
    xlabel: str,
    ylabel: str,
    *,
    x: Sequence[float] | None = None,
    logy: bool = False,
    ax=None,
):
    """One line per named series (a loss curve, accuracy per epoch, ...); returns the Axes."""
    if not series:
        raise ValueError("curves needs at least one series")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    for name, values in series.items():
        values = np.asarray(values, dtype=float)
        xs = np.arange(1, len(values) + 1) if x is None else np.asarray(x)
        if len(xs) != len(values):
            raise ValueError(f"series {name!r} has {len(values)} values but x has {len(xs)}")
        ax.plot(xs, values, label=name)
    if logy:
        ax.set_yscale("log")
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    if len(series) > 1:
        ax.legend()
    ax.grid(alpha=0.3)
    return ax


def decision_boundary(
    predict: Callable[[np.ndarray], np.ndarray],
    points: np.ndarray,
    labels: np.ndarray,
    title: str,
    *,
    margin: float = 0.5,
    resolution: int = 200,
    ax=None,
):
    """Shade predict(grid) (probabilities of class 1) over the plane and mark the points."""
    points = np.asarray(points, dtype=float)
    labels = np.asarray(labels).ravel()
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"points must have shape (n, 2), got {points.shape}")
    lo, hi = points.min(axis=0) - margin, points.max(axis=0) + margin
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution))
    grid = np.column_stack([gx.ravel(), gy.ravel()]).astype(np.float32)
    probs = np.asarray(predict(grid), dtype=float).reshape(gx.shape)
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4))
    shade = ax.contourf(gx, gy, probs, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.8)
    ax.contour(gx, gy, probs, levels=[0.5], colors="k", linewidths=1.5)
    ax.scatter(points[:, 0], points[:, 1], c=labels, cmap="RdBu_r", edgecolors="k", s=120, vmin=0, vmax=1)
    ax.figure.colorbar(shade, ax=ax, label="P(class 1)")
    ax.set(title=title, xlabel="$x_1$", ylabel="$x_2$")
    return ax


def image_grid(
    images: Sequence[np.ndarray],
    titles: Sequence[str] | None = None,
    *,
    suptitle: str,
    columns: int = 8,
    cmap: str = "gray",
):
    """Images in rows of `columns`, each with an optional title; returns the Figure."""
    images = list(images)
    if not images:
        raise ValueError("image_grid needs at least one image")
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"{len(images)} images but {len(titles)} titles")
    columns = min(columns, len(images))
    rows = -(-len(images) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(1.5 * columns, 1.9 * rows + 0.4), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(images):
            image = np.asarray(images[i])
            ax.imshow(image.squeeze(), cmap=cmap if image.squeeze().ndim == 2 else None)
            if titles is not None:
                ax.set_title(titles[i], fontsize=9)
    fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def side_by_side(images: Mapping[str, np.ndarray], suptitle: str, *, cmap: str = "gray"):
    """Named images in one row (before/after comparisons); returns the Figure."""
    if not images:
        raise ValueError("side_by_side needs at least one image")
    fig, axes = plt.subplots(1, len(images), figsize=(3.6 * len(images), 3.8), squeeze=False)
    for ax, (name, image) in zip(axes[0], images.items(), strict=True):
        image = np.asarray(image)
        ax.imshow(image, cmap=cmap if image.ndim == 2 else None)
        ax.set_title(name)
        ax.axis("off")
    fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def confusion_matrix(true: np.ndarray, predicted: np.ndarray, classes: int, title: str, *, ax=None):
    """Counts of (true, predicted) pairs as a labelled heat map; returns (Axes, counts)."""
    true = np.asarray(true).ravel()
    predicted = np.asarray(predicted).ravel()
    if true.shape != predicted.shape:
        raise ValueError(f"true has {true.size} labels but predicted has {predicted.size}")
    counts = np.zeros((classes, classes), dtype=int)
    np.add.at(counts, (true, predicted), 1)
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4.5))
    shown = ax.imshow(counts, cmap="Blues")
    for (i, j), n in np.ndenumerate(counts):
        ax.text(j, i, str(n), ha="center", va="center", fontsize=7,
                color="white" if n > counts.max() / 2 else "black")
    ax.figure.colorbar(shown, ax=ax, label="count")
    ax.set(title=title, xlabel="predicted", ylabel="true", xticks=range(classes), yticks=range(classes))
    return ax, counts


def graph(nodes: Mapping[str, tuple[float, float, str]], edges: Sequence[tuple[str, str]], title: str,
          *, ax=None, reverse: bool = False):
    """A computation graph: `nodes` maps a name to (x, y, label), `edges` are (from, to) pairs.

    Arrows point from an operation's inputs to its result, or the other way with `reverse=True`
    (how a reverse-mode sweep walks the graph). Returns the Axes.
    """
    if not nodes:
        raise ValueError("graph needs at least one node")
    unknown = {name for edge in edges for name in edge} - set(nodes)
    if unknown:
        raise ValueError(f"edges name nodes that do not exist: {sorted(unknown)}")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.5))
    for start, end in edges:
        (x0, y0, _), (x1, y1, _) = nodes[start], nodes[end]
        if reverse:
            (x0, y0), (x1, y1) = (x1, y1), (x0, y0)
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                    arrowprops=dict(arrowstyle="-|>", color="0.4", shrinkA=28, shrinkB=28, lw=1.2))
    for x, y, label in nodes.values():
        ax.text(x, y, label, ha="center", va="center", fontsize=8,
                bbox=dict(boxstyle="round,pad=0.4", facecolor="#e8f0fe", edgecolor="#4a6fa5"))
    xs = [x for x, _, _ in nodes.values()]
    ys = [y for _, y, _ in nodes.values()]
    ax.set(xlim=(min(xs) - 0.8, max(xs) + 0.8), ylim=(min(ys) - 0.9, max(ys) + 0.9), title=title)
    ax.axis("off")
    return ax
