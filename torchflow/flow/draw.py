"""Drawing a traced flow as a block diagram: one box per tensor with its name and shape."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from torchflow.flow.compare import compare_flows
from torchflow.flow.trace import Step
from torchflow.frameworks import LABELS


def _wrap(name: str, width: int = 14) -> str:
    if len(name) <= width:
        return name
    parts = name.replace("_", "_\u200b").replace(".", ".\u200b").split("\u200b")
    lines, line = [], ""
    for part in parts:
        if line and len(line) + len(part) > width:
            lines.append(line)
            line = part
        else:
            line += part
    lines.append(line)
    return "\n".join(lines)


def draw_flow(steps: Sequence[Step], title: str | None = None, ax=None, direction: str = "horizontal",
              per_row: int = 6, batch: bool = False):
    """Draw ``steps`` as a block diagram: one box per tensor with its name and shape.

    Boxes run left to right (``direction="horizontal"``, wrapping after
    ``per_row`` boxes) or top to bottom (``"vertical"``). A box's shade grows with
    the number of values per example. Returns the axes.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    if direction not in {"horizontal", "vertical"}:
        raise ValueError("direction must be 'horizontal' or 'vertical'")
    steps = list(steps)
    if not steps:
        raise ValueError("nothing to draw: the flow has no steps")
    count = len(steps)
    if direction == "horizontal":
        nrows = math.ceil(count / per_row)
        ncols = math.ceil(count / nrows)  # balanced rows: 8 boxes at 6 per row make 4 + 4
        positions = [(i % ncols, -(i // ncols)) for i in range(count)]
        box_w, box_h, gap_x, gap_y = 1.55, 0.95, 0.55, 0.6
    else:
        ncols, nrows = 1, count
        positions = [(0, -i) for i in range(count)]
        box_w, box_h, gap_x, gap_y = 2.4, 0.7, 0.5, 0.45
    if ax is None:
        inch = 0.75  # inches per unit of the drawing
        width = (ncols * (box_w + gap_x) - gap_x + 0.3) * inch
        height = (nrows * (box_h + gap_y) - gap_y + 0.3) * inch
        top = 0.55 if title is not None else 0.1  # room for a two-line title
        figure = plt.figure(figsize=(width, height + top))
        ax = figure.add_axes((0, 0, 1, height / (height + top)))
    sizes = np.log10([max(step.size, 1) for step in steps])
    low, high = float(sizes.min()), float(sizes.max())
    cmap = plt.get_cmap("Blues")
    centres = []
    for step, (col, row), size in zip(steps, positions, sizes, strict=True):
        x = col * (box_w + gap_x)
        y = row * (box_h + gap_y)
        shade = 0.15 + 0.45 * ((size - low) / (high - low) if high > low else 0.5)
        ax.add_patch(FancyBboxPatch((x, y), box_w, box_h, boxstyle="round,pad=0.02,rounding_size=0.08",
                                    facecolor=cmap(shade), edgecolor="#1f3b5a", linewidth=1.2))
        ax.text(x + box_w / 2, y + box_h * 0.68, _wrap(step.name), ha="center", va="center",
                fontsize=8.5, fontweight="bold", color="#10243a")
        ax.text(x + box_w / 2, y + box_h * 0.25, step.shape_text(batch), ha="center", va="center",
                fontsize=9, family="monospace", color="#10243a")
        centres.append((x, y))
    for (x0, y0), (x1, y1) in zip(centres, centres[1:], strict=False):
        if direction == "vertical":
            start, end, style = (x0 + box_w / 2, y0), (x1 + box_w / 2, y1 + box_h), "arc3"
        elif y0 == y1:
            start, end, style = (x0 + box_w, y0 + box_h / 2), (x1, y1 + box_h / 2), "arc3"
        else:  # next row: from the bottom of the last box to the top of the first
            start, end, style = (x0 + box_w / 2, y0), (x1 + box_w / 2, y1 + box_h), "arc3"
        ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=12, color="#1f3b5a",
                                     linewidth=1.1, connectionstyle=style, shrinkA=1, shrinkB=1))
    xs = [c[0] for c in centres]
    ys = [c[1] for c in centres]
    ax.set_xlim(min(xs) - 0.15, max(xs) + box_w + 0.15)
    ax.set_ylim(min(ys) - 0.15, max(ys) + box_h + 0.15)
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=11)
    return ax


def draw_flows(flows: Mapping[str, Sequence[Step]], title: str | None = None, **kwargs: Any):
    """Check that the twins' flows agree and draw one diagram of them; returns the figure.

    With two flows that agree, one diagram stands for both (the title says so);
    with one flow (a framework missing), that one. Disagreeing flows raise
    :class:`FlowMismatch` from :func:`compare_flows`.
    """
    if not flows:
        raise ValueError("no flows to draw: no framework could be traced")
    names = list(flows)
    if len(names) == 2:
        compare_flows(flows[names[0]], flows[names[1]],
                      labels=(LABELS.get(names[0], names[0]), LABELS.get(names[1], names[1])))
    labels = " and ".join(LABELS.get(n, n) for n in names)
    note = f"traced from the {labels} twin{'s (identical shapes)' if len(names) > 1 else ''}"
    ax = draw_flow(flows[names[0]], title=f"{title}\n{note}" if title else note, **kwargs)
    return ax.figure
