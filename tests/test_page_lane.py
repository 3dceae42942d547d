"""The page lane (tests/pages.py) that runs the book's pages for the tests: a page that works gives
its output and record; one that raises, exits non-zero, crashes the interpreter or hangs fails with
what it printed, and the next page still runs, in a fresh worker where the old one died."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests import pages

GOOD = """
    import json, os, sys
    from pathlib import Path
    print("hello from", Path.cwd().name, sys.argv[0].endswith("plot_good.py"), os.environ["TORCHFLOW_BUDGET"],
          os.environ.get("LANE_TEST"), os.environ.get("OMP_NUM_THREADS"))
    Path(os.environ["TORCHFLOW_RECORDS"], "good.json").write_text(json.dumps({"page": "plot_good"}))
"""
PAGES = {
    "plot_good": GOOD,
    "plot_raises": "print('half way'); raise ValueError('a broken page')",
    "plot_exits": "import sys; sys.exit(3)",
    "plot_crashes": "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)",
    "plot_hangs": "import time; time.sleep(60)",
    "plot_no_record": "print('ran, but never called run.finish()')",
}


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory) -> dict[str, pages.Outcome]:
    folder = tmp_path_factory.mktemp("chapter", numbered=False)
    for name, source in PAGES.items():
        (folder / f"{name}.py").write_text(textwrap.dedent(source))
    lane = pages.Lane(tmp_path_factory.mktemp("lane"), timeout=5)
    setting = pages.Setting("lane-test", env=(("LANE_TEST", "set"), ("TORCHFLOW_FRAMEWORKS", None)),
                            preload=False)  # the lane's own behaviour; the book's pages test the preloaded one
    order = ["plot_good", "plot_raises", "plot_exits", "plot_crashes", "plot_good", "plot_hangs",
             "plot_no_record", "plot_good"]
    for index, name in enumerate(order):
        lane.submit(f"{index}-{name}", setting, folder / f"{name}.py")
    try:
        results = {key: lane.result(key) for key in lane.jobs}
        results["starts"] = lane.started
    finally:
        lane.close()
    return results


def test_a_good_page_runs_as_main_from_its_folder_in_the_setting(outcomes):
    for key in ("0-plot_good", "4-plot_good", "7-plot_good"):
        stdout, record = outcomes[key].check()
        assert record == {"page": "plot_good"}
        assert stdout.split() == ["hello", "from", "chapter", "True", "smoke", "set", "1"], stdout


@pytest.mark.parametrize("key, says", [("1-plot_raises", "ValueError: a broken page"),
                                       ("2-plot_exits", "SystemExit(3)"),
                                       ("3-plot_crashes", "the worker process died"),
                                       ("5-plot_hangs", "timed out after 5 s")])
def test_a_failing_page_fails_its_test_saying_why(outcomes, key, says):
    with pytest.raises(AssertionError, match="failed") as failure:
        outcomes[key].check()
    assert says in str(failure.value)


def test_what_a_failing_page_printed_is_reported(outcomes):
    assert outcomes["1-plot_raises"].stdout.strip() == "half way"


def test_a_page_without_its_record_fails(outcomes):
    with pytest.raises(AssertionError, match="wrote 0 records"):
        outcomes["6-plot_no_record"].check()


def test_a_dead_or_hung_worker_is_replaced_and_only_then(outcomes):
    assert outcomes["starts"] == ["lane-test"] * 3  # the first, after the crash, after the hang


def test_a_page_run_twice_under_one_key_is_refused(tmp_path):
    lane = pages.Lane(tmp_path)
    try:
        lane.submit("one", pages.Setting("x"), Path("plot_a.py"))
        with pytest.raises(ValueError, match="submitted twice"):
            lane.submit("one", pages.Setting("x"), Path("plot_a.py"))
        with pytest.raises(KeyError, match="no page run"):
            lane.result("two")
    finally:
        lane.queue.get_nowait()  # never start a worker for it
        lane.close()
