"""Shared test settings: the smoke budget, a quiet TensorFlow, and an isolated data cache for writes."""

import os
from pathlib import Path

os.environ.setdefault("TORCHFLOW_BUDGET", "smoke")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# One thread per process, set before either framework loads: the page lane (tests/pages.py) runs
# the book's pages on a second core meanwhile.
for _threads in ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"):
    os.environ.setdefault(_threads, "1")

# PyTorch's Triton must load before TensorFlow (see torchflow.frameworks.load_in_safe_order)
from torchflow.frameworks import load_in_safe_order  # noqa: E402

load_in_safe_order()

import shutil  # noqa: E402
import tempfile  # noqa: E402

import pytest  # noqa: E402

from tests import pages  # noqa: E402

LANE = pytest.StashKey[pages.Lane]()


def pytest_configure(config):
    config.addinivalue_line("markers", "page_run: runs a whole page in the page lane (tests/pages.py)")


@pytest.hookimpl(trylast=True)  # after -k / -m have deselected
def pytest_collection_modifyitems(session, config, items):
    """Page runs last: they run in a background lane (tests/pages.py) while the other tests run."""
    items[:] = [i for i in items if not i.get_closest_marker("page_run")] + \
               [i for i in items if i.get_closest_marker("page_run")]


def pytest_collection_finish(session):
    if session.config.option.collectonly:
        return
    base = Path(tempfile.mkdtemp(prefix="torchflow-pages-"))
    lane = pages.start_lane(session.items, base)
    if lane is None:
        shutil.rmtree(base, ignore_errors=True)
    else:
        session.config.stash[LANE] = lane


def pytest_terminal_summary(terminalreporter):
    """How long the lane's pages took (measured in the worker, each page from start to record)."""
    lane = terminalreporter.config.stash.get(LANE, None)
    if lane is not None:
        terminalreporter.write_line(lane.summary())


def pytest_sessionfinish(session):
    lane = session.config.stash.get(LANE, None)
    if lane is not None:
        lane.close()
        shutil.rmtree(lane.base, ignore_errors=True)


@pytest.fixture
def page_lane(request) -> pages.Lane:
    """The lane that ran (or is running) this test's page; see tests/pages.py."""
    lane = request.config.stash.get(LANE, None)
    assert lane is not None, "no page lane: the test must be marked with tests.pages.page_run"
    lane.widen()  # the page tests run last: from here the test process only waits, so pages take both cores
    return lane


# The browser test needs a built site; `nox -s browser` runs it (after `nox -s docs`).
collect_ignore = [] if os.environ.get("TORCHFLOW_SITE") else ["browser"]
