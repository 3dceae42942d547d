"""How every generative page is scored: the judge's quality scores of a set of images, and the same scores
for what needs no training (copies of training images, class prototypes, a class-conditional Gaussian in
pixel space) and for real held-out images (the floor), recorded as baselines of a :class:`torchflow.Run`.

A page calls :func:`record_baselines` once, then :func:`score` for each twin's samples and records the result
with ``twin.record(values, noise=noise)``. The metric names below are the ones the pages' targets use.
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

import numpy as np

from torchflow.baselines.images import class_prototypes, diagonal_gaussian, training_copies
from torchflow.metrics import proportion_standard_error

if TYPE_CHECKING:
    from torchflow.judge import Judge
    from torchflow.run import Run

KID, PRECISION, RECALL, MEMORY = "KID (judge features)", "precision", "recall", "memorisation ratio"
METRICS = (KID, PRECISION, RECALL, MEMORY)
_KEYS = {KID: "kid", PRECISION: "precision", RECALL: "recall", MEMORY: "memorisation ratio"}


def score(judge: Judge, images: np.ndarray, reference: np.ndarray, train: np.ndarray,
          other_real: np.ndarray | None = None) -> tuple[dict[str, float], dict[str, float], dict]:
    """``(values, noise, quality)`` of ``images`` against the real ``reference`` in judge features.

    ``values`` maps :data:`KID`, :data:`PRECISION`, :data:`RECALL`, :data:`MEMORY` to the scores; ``noise``
    holds their standard errors (KID by half-sampling, precision and recall as binomial proportions over the
    scored set); ``quality`` is :meth:`torchflow.judge.Judge.quality`'s whole result (class histogram,
    Fréchet distance, and with ``other_real`` the real-image floor).
    """
    q = judge.quality(images, reference, train, other_real=other_real)
    values = {metric: float(q[key]) for metric, key in _KEYS.items()}
    noise = {KID: float(q["kid standard error"]),
             PRECISION: proportion_standard_error(q["precision"], q["size"]),
             RECALL: proportion_standard_error(q["recall"], q["size"])}
    return values, noise, q


def contenders(train: np.ndarray, labels: np.ndarray, count: int, seed: int = 0,
               few: int = 50) -> dict[str, tuple[np.ndarray, str]]:
    """The untrained "generators" every generative page is scored against, ``{name: (images, kind)}``:
    ``few`` training images copied over and over (a collapsed generator), ``count`` distinct training
    images (a perfect memoriser), the class means (prototypes) -- all three of kind ``"copy"`` -- and a
    class-conditional diagonal Gaussian in pixel space (kind ``"model"``: the real, cheap generative model a
    network must beat). ``train`` must hold at least ``count`` images."""
    if len(train) < max(count, few):
        raise ValueError(f"{len(train)} training images cannot give {max(count, few)} distinct copies")
    picker = np.random.default_rng(seed)
    chosen = train[picker.choice(len(train), few, replace=False)]
    return {
        f"{few} training images, copied": (training_copies(chosen, count, seed)[0], "copy"),
        f"{count:,} training images, copied": (train[picker.choice(len(train), count, replace=False)], "copy"),
        "class prototypes": (class_prototypes(train, labels, count)[0], "copy"),
        "diagonal Gaussian per class": (diagonal_gaussian(train, labels, count, seed)[0], "model"),
    }


def record_baselines(run: Run, judge: Judge, train: np.ndarray, labels: np.ndarray, reference: np.ndarray,
                     other_real: np.ndarray, seed: int = 0) -> dict[str, dict]:
    """Score every :func:`contenders` set and ``other_real`` (the floor) against ``reference`` and record
    them as ``run.baseline(...)`` for the four metrics. The memorisation ratio is recorded for the copies
    only: a ratio above 1 is no better than 1, so only copies are judged on it. Returns
    ``{name: {"images", "kind", "quality"}}`` for each contender, and the floor under ``"real images"``
    (kind ``"floor"``); every set is as large as ``reference``."""
    count = len(reference)
    found: dict[str, dict] = {}
    q: dict = {}
    for name, (images, kind) in contenders(train, labels, count, seed).items():
        values, noise, q = score(judge, images, reference, train, other_real=other_real)
        found[name] = {"images": images, "kind": kind, "quality": q}
        for metric, value in values.items():
            if metric == MEMORY and kind == "model":
                continue
            run.baseline(metric, value, name, noise=noise.get(metric), kind=kind)
    floor = {key[len("floor "):]: value for key, value in q.items() if key.startswith("floor ")}
    found["real images"] = {"images": np.asarray(other_real)[: q["size"]], "kind": "floor", "quality": floor}
    for metric, key in _KEYS.items():
        run.baseline(metric, floor[key], f"{q['size']:,} more real test images", kind="floor",
                     noise=floor["kid standard error"] if metric == KID else None)
    return found


def requested_class_accuracy(judge: Judge, images: np.ndarray, requested: np.ndarray, real: np.ndarray,
                             real_labels: np.ndarray, num_classes: int = 10) -> dict[str, np.ndarray | float]:
    """For a conditional generator: the share of ``images`` the judge assigns to their ``requested`` class,
    overall and per class, beside the judge's own accuracy on ``real`` images of each class (its ceiling:
    a class the judge confuses on real images cannot score higher on generated ones).

    Keys: ``overall`` and ``real overall`` (floats), ``per class`` and ``real per class`` (arrays of
    ``num_classes``; NaN where a class was never requested), ``count`` (images per requested class)."""
    requested, real_labels = np.asarray(requested), np.asarray(real_labels)
    if len(images) != len(requested) or len(real) != len(real_labels):
        raise ValueError(f"{len(images)} images for {len(requested)} requests, {len(real)} real images for "
                         f"{len(real_labels)} labels")
    hit = judge.predict(images) == requested
    real_hit = judge.predict(real) == real_labels

    def by_class(correct: np.ndarray, labels: np.ndarray) -> np.ndarray:
        counts = np.bincount(labels, minlength=num_classes).astype(np.float64)
        sums = np.bincount(labels, weights=correct.astype(np.float64), minlength=num_classes)
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)

    return {"overall": float(hit.mean()), "real overall": float(real_hit.mean()),
            "per class": by_class(hit, requested), "real per class": by_class(real_hit, real_labels),
            "count": np.bincount(requested, minlength=num_classes)}


def findings(run: Run, steps: int, *, full_steps: int | None = None,
             before: dict[str, tuple[str, str]] | None = None, after: dict[str, tuple[str, str]] | None = None,
             closing: str | None = None, copies: dict[str, dict] | None = None, width: int = 88) -> list[str]:
    """What a generative page says under its verdict, as lines wrapped to ``width`` columns.

    One line per twin: ``before`` metrics (``{shown name: (metric, format)}``, e.g.
    ``{"negative ELBO": (ELBO, "{:.1f}")}``), KID with its
    noise against the strongest ``model`` baseline, precision and recall with theirs, the memorisation ratio,
    then ``after`` metrics. Then every missed target and every baseline not beaten, each with the budget and
    the step count; and when there was one at the ``cpu`` budget, ``closing`` (by default: what the ``full``
    budget, ``full_steps``, reaches was not measured in this build). With ``copies`` (what
    :func:`record_baselines` returned), first the quality targets each copy of training data fails.
    """
    from torchflow.frameworks import label

    def fill(text: str) -> str:
        return textwrap.fill(text, width, subsequent_indent="    ")

    def metric(values: dict, noise: dict, name: str, text: str) -> str:
        return text.format(values[name]) + ("" if noise.get(name) is None else f" ± {text.format(noise[name])}")

    gaussian = run.strongest_baseline(KID)
    verdict = run.verdict()
    lines = []
    quality = [row for row in verdict.rows if row.metric in METRICS]
    for name, entry in (copies or {}).items():
        if entry["kind"] == "copy" and quality:
            failed = [row.metric for row in quality if all(b.name != name for b in row.weak)]
            lines.append(fill(f"{name}: fails {', '.join(failed) if failed else 'NO quality target'}"))
    for twin in run.twins:
        m, e = twin.metrics, twin.noise
        parts = [f"{shown} {metric(m, e, name, text)}" for shown, (name, text) in (before or {}).items()]
        kid = f"KID {metric(m, e, KID, '{:.3f}')}"
        if gaussian is not None:
            kid += f" ({'below' if m[KID] < gaussian.value else 'above'} the {gaussian.name}'s {gaussian.value:.3f})"
        parts += [kid, f"precision {metric(m, e, PRECISION, '{:.3f}')}", f"recall {metric(m, e, RECALL, '{:.3f}')}",
                  f"memorisation ratio {m[MEMORY]:.2f}"]
        parts += [f"{shown} {metric(m, e, name, text)}" for shown, (name, text) in (after or {}).items()]
        lines.append(fill(f"{label(twin.framework)}: " + ", ".join(parts)))
    where = f"at '{run.budget}' ({steps:,} steps)"
    lines += [fill(f"Missed {where}: {line}") for line in verdict.misses]
    lines += [fill(f"Not beaten {where}: {line}") for line in verdict.below_baseline]
    if (verdict.misses or verdict.below_baseline) and run.budget == "cpu":
        longer = f"the 'full' budget ({full_steps:,} steps)" if full_steps else "the 'full' budget"
        lines.append(fill(closing or f"What {longer} reaches was not measured for this build."))
    return lines
