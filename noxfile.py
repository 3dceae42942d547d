"""Sessions: ``nox -s tests``, ``nox -s docs``, ``nox -s docs_gpu``, ``nox -s lint``, ``nox -s mutants``.

The heavy sessions (tests, docs, docs_gpu) share one virtual environment,
``.nox/torchflow``, with PyTorch, TensorFlow and the docs and test tools: several
GB that are installed once and reused. It is refreshed only when
``pyproject.toml`` changes (a hash of it is kept in the venv).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import time
import tomllib
from pathlib import Path

import nox

nox.options.sessions = ["tests"]
nox.options.reuse_existing_virtualenvs = True

ROOT = Path(__file__).resolve().parent
HEAVY_VENV = ROOT / ".nox" / "torchflow"
CPU_EXTRAS = "all,docs,test"
RECORDS = ROOT / "docs" / "_build" / "records"
# the whole book in the cpu budget on 2 cores, two examples at a time (studies/book/build-time/cpu.md)
TIMES = tomllib.loads((ROOT / "benchmarks" / "times.toml").read_text(encoding="utf-8"))  # the one record of them
EXPECTED_MINUTES = {budget: f"about {entry['minutes']:g} minutes ({entry['measured']})"
                    for budget, entry in TIMES["book"].items()}
GPU_EXTRAS = "torch,tf-cuda,docs,test"


def _venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def heavy_env(session: nox.Session, extras: str = CPU_EXTRAS, venv: Path = HEAVY_VENV) -> str:
    """Create (once) the shared venv with ``torchflow-book[extras]``; return its python."""
    python = _venv_python(venv)
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()
    marker = venv / ".torchflow-installed"
    if python.exists() and marker.exists() and marker.read_text() == wanted:
        session.log(f"reusing {venv} (pyproject.toml unchanged)")
        return str(python)
    if not python.exists():
        session.run(sys.executable, "-m", "venv", str(venv), external=True)
    session.run(str(python), "-m", "pip", "install", "--upgrade", "pip", external=True)
    session.run(str(python), "-m", "pip", "install", "-e", f".[{extras}]", external=True)
    marker.write_text(wanted)
    return str(python)


@nox.session(venv_backend="none")
def tests(session: nox.Session) -> None:
    """Unit, parity and data tests, and every example end to end in the smoke budget."""
    python = heavy_env(session)
    session.run(python, "-m", "pytest", *(session.posargs or ["-q"]),
                # the JUnit report gives the comparison page its parity-test status
                f"--junitxml={ROOT / 'docs' / '_build' / 'test-results.xml'}",
                external=True, env={"TORCHFLOW_BUDGET": "smoke"})


@nox.session(venv_backend="none")
def mutants(session: nox.Session) -> None:
    """The mutation check: every mistake in tools/mutants/*.toml must fail its tests (benchmarks/mutants.md).

    ``nox -s mutants -- --area gan``, ``-- --only ID ...``, ``-- --list``, ``-- --jobs 2`` (see tools/mutants.py).
    """
    python = heavy_env(session)
    session.run(python, str(ROOT / "tools" / "mutants.py"), *session.posargs, external=True,
                env={"TORCHFLOW_BUDGET": "smoke"})


def _announce(session: nox.Session, python: str, budget: str) -> None:
    """Before a long build: where each dataset will come from, and how long the build should take."""
    session.log(f"building the book in the {budget!r} budget: {EXPECTED_MINUTES.get(budget, '?')}, after the install")
    session.run(python, "-m", "torchflow.data", "plan", external=True, silent=False)


def _report_misses(session: nox.Session, since: float) -> None:
    """After a build: every page that missed a target it states, and apart from those, every page whose
    network does not beat the strongest baseline it computes (or whose target a baseline meets too)."""
    missed, below, weak = [], [], []
    for path in sorted(RECORDS.glob("*.json")) if RECORDS.is_dir() else []:
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            session.warn(f"unreadable record {path.name} ({error}): rebuild that page")
            continue
        data = "the embedded data subset" if record.get("data_subset") else "the full data"
        # sphinx-gallery re-runs only changed examples: an older record still stands for its page
        when = "" if path.stat().st_mtime >= since else f", run on {record.get('date', '?')}"
        where = f"  {record.get('page', path.stem)} ({record.get('budget')} budget, {data}{when}): "
        missed += [where + miss for miss in record.get("misses", [])]
        below += [where + line for line in record.get("below_baseline", [])]
        weak += [where + line for line in record.get("weak_targets", [])]
    if missed:
        session.warn("pages that missed a target they state:\n" + "\n".join(missed))
    else:
        session.log("every page built here reached the targets it states")
    if below:
        session.warn("pages whose network does not beat its baseline (a finding each page states):\n"
                     + "\n".join(below))
    if weak:
        session.warn("targets that a baseline or a copy of the training data meets too:\n" + "\n".join(weak))


def _build_docs(session: nox.Session, python: str, budget: str, builddir: str, jobs: str) -> None:
    _announce(session, python, budget)
    started = time.time()
    # TORCHFLOW_JOBS: how many examples run at once (docs/_ext/jobs.py); one example alone gets every core
    jobs = "1" if session.posargs else jobs
    env = {"TORCHFLOW_BUDGET": budget, "TORCHFLOW_JOBS": os.environ.get("TORCHFLOW_JOBS", jobs)}
    if session.posargs:  # `nox -s docs -- plot_1_vae` builds that example only
        env["TORCHFLOW_EXAMPLE"] = session.posargs[0]
    if os.environ.get("TORCHFLOW_CLEAN"):
        shutil.rmtree(ROOT / "docs" / "auto_examples", ignore_errors=True)
        shutil.rmtree(ROOT / builddir, ignore_errors=True)
        shutil.rmtree(ROOT / "docs" / "_build" / "records", ignore_errors=True)
    session.run(python, "-m", "sphinx", "-b", "html", "-j", "1", "docs", builddir, external=True, env=env)
    _report_misses(session, started)
    session.log(f"open {ROOT / builddir / 'index.html'} (or: python -m http.server -d {builddir})")


@nox.session(venv_backend="none")
def docs(session: nox.Session) -> None:
    """The whole book in the cpu budget (``nox -s docs -- NAME`` for one example)."""
    # two examples at a time where there are two cores: faster on 2 cores (studies/book/build-time/cpu.md)
    _build_docs(session, heavy_env(session), os.environ.get("TORCHFLOW_BUDGET", "cpu"), "docs/_build/html", "auto")


@nox.session(venv_backend="none")
def docs_gpu(session: nox.Session) -> None:
    """The whole book in the full budget, on a CUDA GPU (its own venv with CUDA TensorFlow)."""
    python = heavy_env(session, GPU_EXTRAS, ROOT / ".nox" / "torchflow-gpu")
    session.run(python, "-c", "import torch, sys; sys.exit(0 if torch.cuda.is_available() else "
                "'docs_gpu needs a CUDA GPU: torch.cuda.is_available() is False')", external=True)
    # one example at a time: TensorFlow takes most of the GPU's memory for itself
    _build_docs(session, python, "full", "docs/_build/html-full", "1")


@nox.session
def lint(session: nox.Session) -> None:
    """ruff over the package, tests, examples, docs config, tools and studies."""
    session.install("ruff>=0.5")
    session.run("ruff", "check", "torchflow", "tests", "examples", "docs/conf.py", "docs/_ext", "noxfile.py", "data",
                "tools", "studies")


@nox.session
def mathjax(session: nox.Session) -> None:
    """Vendor MathJax 3 into docs/_static/mathjax (npm, or ``-- --tarball FILE``); docs builds also do it."""
    session.run("python", "docs/_ext/mathjax_offline.py", *session.posargs)


@nox.session(venv_backend="none")
def inventories(session: nox.Session) -> None:
    """Refresh the intersphinx inventories in docs/_inventories (needs network; ``-- NAME`` for one)."""
    session.run(sys.executable, "docs/_ext/inventories.py", *session.posargs, external=True)


@nox.session
def browser(session: nox.Session) -> None:
    """The built site (docs/_build/html) in headless Chromium: figures, tabs, math, search; screenshots.

    Builds nothing: run ``nox -s docs`` first. Needs Debian's ``chromium`` and ``chromium-driver``.
    """
    site = ROOT / "docs" / "_build" / "html"
    if not (site / "index.html").is_file():
        session.error(f"no built site at {site}: run `nox -s docs` first")
    session.install("pytest>=8", "selenium>=4.10", "pillow>=10", "numpy>=1.24")  # pixels of a sampled figure
    session.run("pytest", "-q", "--confcutdir=tests/browser", "-p", "no:cacheprovider", "tests/browser",
                *session.posargs, env={"TORCHFLOW_SITE": str(site),
                                       "TORCHFLOW_ARTEFACTS": str(ROOT / "test-artefacts" / "browser")})
