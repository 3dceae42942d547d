"""How many gallery examples run at once, and how many cores each one gets.

``TORCHFLOW_JOBS=N`` makes sphinx-gallery run N examples at a time, each in its
own worker process (joblib). Every worker then gets ``cores // N`` threads, for
PyTorch (OpenMP) and TensorFlow (its intra-op pool) alike, so that N examples
together do not ask for more threads than there are cores. The variables are
set in the Sphinx process before either framework is imported, and the workers
inherit them.

``TORCHFLOW_JOBS=auto`` (what ``nox -s docs`` uses for the whole book) picks two
at a time on a machine with at least two cores: on 2 cores two at a time was
about a fifth faster than one after another (``studies/book/build-time/cpu.md``); the
book's current build time is in ``benchmarks/times.toml``.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

JOBS_ENV = "TORCHFLOW_JOBS"
THREAD_VARIABLES = ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS")


def _cores(cores: int | None) -> int:
    """``cores`` if given, else the cores this process may run on."""
    return cores if cores is not None else len(os.sched_getaffinity(0))


def gallery_jobs(environ: MutableMapping[str, str] = os.environ, cores: int | None = None) -> int:
    """The number of examples to run at once (default 1: one after another; ``auto``: 2 given 2 cores)."""
    value = environ.get(JOBS_ENV, "").strip().lower() or "1"  # the rules of torchflow.config
    if value == "auto":
        return 2 if _cores(cores) >= 2 else 1
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{JOBS_ENV}={value!r}: give the number of examples to run at once, "
                         f"e.g. {JOBS_ENV}=2, or {JOBS_ENV}=auto (or leave it unset for one at a time)")
    return int(value)


def share_cores(jobs: int, environ: MutableMapping[str, str] = os.environ, cores: int | None = None) -> int:
    """Give each of ``jobs`` workers its share of the cores; return the threads per worker."""
    threads = max(1, _cores(cores) // jobs)
    if jobs > 1:
        for variable in THREAD_VARIABLES:
            environ[variable] = str(threads)
    return threads
