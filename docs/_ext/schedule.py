"""Run the whole book's examples in one pool of workers, longest first.

sphinx-gallery's ``parallel`` option runs the examples of ONE chapter (gallery subsection) at a time in a pool
and waits for the whole chapter before it starts the next. With two workers, a chapter of two pages of 180 s
and 280 s leaves one core idle for 100 s, and the book's six chapters left both cores busy only part of the
time: the ``cpu`` build of commit e280a2e spent 30 min on pages whose times add up to 49 min, against 24.5 min
for a perfect split (``studies/book/build-time/cpu.md``).

This extension makes the first ``generate_dir_rst`` call (the gallery root) run every chapter's examples in one
joblib pool, longest first (each page's time in the last measured build of the same budget, ``[pages.<budget>]`` in
``benchmarks/times.toml``; a page never measured goes first), and keeps each result. Each chapter's own call then
runs serially and takes the kept results: sphinx-gallery writes the chapter's index, thumbnails and toctree
exactly as before, in the book's order. A result is the same tuple a sphinx-gallery worker returns, produced
by sphinx-gallery's own ``generate_file_rst`` in the same kind of worker, so nothing about a page changes but
when it runs. Examples that opt out of parallel runs (``sphinx_gallery_parallel = False``) are left to
sphinx-gallery.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from sphinx.util import logging

logger = logging.getLogger(__name__)


TIMES = Path(__file__).resolve().parents[2] / "benchmarks" / "times.toml"


def measured_seconds(budget: str, times: Path = TIMES) -> dict[str, float]:
    """Each page's wall time in the last measured build of ``budget`` (``[pages.<budget>]``; ``{}`` if none)."""
    return {stem: float(seconds) for stem, seconds in
            tomllib.loads(times.read_text(encoding="utf-8")).get("pages", {}).get(budget, {}).items()}


def longest_first(jobs: list[tuple[Path, Path, str]], seconds: dict[str, float]) -> list[tuple[Path, Path, str]]:
    """``(src_dir, target_dir, fname)`` jobs, longest first; a page never measured goes first (it may be long);
    ties keep the book's order."""
    return sorted(jobs, key=lambda job: -seconds.get(Path(job[2]).stem, float("inf")))


def _book_jobs(app, examples_dir: Path, gallery_dir: Path, gallery_conf) -> list[tuple[Path, Path, str]]:
    from sphinx_gallery.gen_gallery import get_subsections
    from sphinx_gallery.gen_rst import _split_parallel
    from sphinx_gallery.utils import _collect_gallery_files

    jobs = []
    for subsection in get_subsections(app.builder.srcdir, examples_dir, gallery_conf, check_for_header=True):
        src_dir, target_dir = examples_dir / subsection, gallery_dir / subsection
        (target_dir / "images" / "thumb").mkdir(parents=True, exist_ok=True)  # as generate_dir_rst does
        _serial, parallel = _split_parallel(_collect_gallery_files([src_dir], gallery_conf), src_dir, gallery_conf)
        jobs += [(src_dir, target_dir, fname) for fname in parallel]
    return jobs


def setup(app):
    from sphinx_gallery import gen_gallery, gen_rst

    run_example = gen_rst.generate_file_rst  # what the pool's workers run (pickled by its own module's name)
    chapter_rst = gen_gallery.generate_dir_rst
    kept: dict[tuple[str, str], tuple] = {}

    def kept_or_run(fname, target_dir, src_dir, gallery_conf):
        result = kept.pop((str(Path(src_dir)), str(fname)), None)
        return result if result is not None else run_example(fname, target_dir, src_dir, gallery_conf)

    def generate_dir_rst(src_dir, target_dir, gallery_conf, seen_backrefs, is_subsection=True):
        workers = gallery_conf["parallel"]
        if not workers:
            return chapter_rst(src_dir, target_dir, gallery_conf, seen_backrefs, is_subsection)
        if not is_subsection:  # the gallery root comes first: run the whole book now
            from joblib import Parallel, delayed

            from torchflow.budget import get_budget

            jobs = longest_first(_book_jobs(app, Path(src_dir), Path(target_dir), gallery_conf),
                                 measured_seconds(get_budget()))
            logger.info(f"running the book's {len(jobs)} examples in one pool of {workers}, longest first",
                        color="white")
            pool = Parallel(n_jobs=workers, pre_dispatch="n_jobs", batch_size=1, backend="loky")
            results = pool(delayed(run_example)(fname, target, src, gallery_conf) for src, target, fname in jobs)
            kept.update({(str(src), str(fname)): result for (src, _target, fname), result in zip(jobs, results)})
            gen_rst.generate_file_rst = kept_or_run  # after the pool: its workers must get the original by name
        gallery_conf["parallel"] = False  # the chapter takes the kept results, serially, in the book's order
        try:
            return chapter_rst(src_dir, target_dir, gallery_conf, seen_backrefs, is_subsection)
        finally:
            gallery_conf["parallel"] = workers

    gen_gallery.generate_dir_rst = generate_dir_rst
    return {"parallel_read_safe": True, "parallel_write_safe": True}
