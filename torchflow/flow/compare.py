"""Comparing two traced flows: the twins must have the same shapes, step by step."""

from __future__ import annotations

from collections.abc import Sequence

from torchflow.flow.trace import Step
from torchflow.frameworks import LABELS


class FlowMismatch(ValueError):
    """Two traced flows (usually the two twins) do not have the same shapes."""


def _table(a: Sequence[Step], b: Sequence[Step], labels: tuple[str, str], bad: int | None) -> str:
    rows = []
    for i in range(max(len(a), len(b))):
        left = str(a[i]) if i < len(a) else "-"
        right = str(b[i]) if i < len(b) else "-"
        mark = "  <-- differs" if i == bad else ""
        rows.append(f"  {i:>3}  {left:<40} {right:<40}{mark}")
    header = f"  {'#':>3}  {labels[0]:<40} {labels[1]:<40}"
    return "\n".join([header, *rows])


def compare_flows(torch_steps: Sequence[Step], tf_steps: Sequence[Step], check_names: bool = False,
                  labels: tuple[str, str] = (LABELS["torch"], LABELS["tensorflow"])) -> None:
    """Raise :class:`FlowMismatch` unless both flows have the same shapes, step by step.

    Both must be traced in the same layout (the default, channels-last, is).
    Names are compared only with ``check_names=True``: a module called ``fc1``
    in one framework may be called ``dense`` in the other.
    """
    a_layouts = {s.layout for s in torch_steps}
    b_layouts = {s.layout for s in tf_steps}
    if a_layouts and b_layouts and a_layouts != b_layouts:
        raise FlowMismatch(f"the flows were traced in different layouts ({a_layouts} vs {b_layouts}); "
                           "trace both with the same layout= to compare them")
    for i, (left, right) in enumerate(zip(torch_steps, tf_steps, strict=False)):
        if left.shape != right.shape or (check_names and left.name != right.name):
            what = "shape" if left.shape != right.shape else "name"
            raise FlowMismatch(
                f"the twins' dimension flows differ at step {i} ({what}): {labels[0]} {left} "
                f"vs {labels[1]} {right}\n{_table(torch_steps, tf_steps, labels, i)}"
            )
    if len(torch_steps) != len(tf_steps):
        raise FlowMismatch(
            f"the twins' dimension flows have {len(torch_steps)} ({labels[0]}) and "
            f"{len(tf_steps)} ({labels[1]}) steps\n"
            f"{_table(torch_steps, tf_steps, labels, min(len(torch_steps), len(tf_steps)))}"
        )
