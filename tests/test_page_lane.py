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


def test_a_fresh_page_runs_in_its_own_process_with_its_framework_blocked(tmp_path):
    page = tmp_path / "plot_blocked.py"
    page.write_text(textwrap.dedent("""
        import os, sys
        from pathlib import Path
        try:
            import json
            import tensorflow  # noqa: F401
            print("tensorflow imported")
        except ImportError:
            print("no tensorflow here", "tests.pages" not in sys.modules)
        Path(os.environ["TORCHFLOW_RECORDS"], "r.json").write_text(json.dumps({"pid": os.getpid()}))
    """))
    lane = pages.Lane(tmp_path / "lane", timeout=60)
    try:
        lane.submit("blocked", pages.Setting("no-tf", fresh=True, block="tensorflow"), page)
        lane.submit("free", pages.Setting("tf", fresh=True), page)
        blocked, free = lane.result("blocked"), lane.result("free")
    finally:
        lane.close()
    stdout, record = blocked.check()
    assert stdout.split() == ["no", "tensorflow", "here", "True"]  # a fresh interpreter, not the lane's worker
    assert free.check()[0].strip() == "tensorflow imported"
    assert record["pid"] != free.check()[1]["pid"] and lane.started == []  # no worker was started for them


def test_the_lane_widens_to_two_drivers_only_while_pages_wait(tmp_path):
    page = tmp_path / "plot_sleep.py"
    page.write_text("import time; time.sleep(1)")
    lane = pages.Lane(tmp_path / "lane", timeout=60)
    try:
        for index in range(4):
            lane.submit(str(index), pages.Setting("sleepy", preload=False), page)
        lane.widen()
        outcomes = [lane.result(str(index)) for index in range(4)]
        assert len(lane.drivers) == 2 and sorted(lane.started) == ["sleepy", "sleepy"]
        lane.widen(drivers=3)  # nothing waits any more: no third driver
        assert len(lane.drivers) == 2
    finally:
        lane.close()
    assert all(o.ok for o in outcomes)
