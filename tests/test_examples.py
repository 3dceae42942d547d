"""Every example of the book, end to end, in the smoke budget, as a reader would run it.

Each runs as ``__main__`` from its folder, as ``python examples/.../plot_x.py`` would, in an
interpreter shared with the other pages as in the docs build (the page lane, ``tests/pages.py``,
which runs them beside the other tests); it must exit cleanly and leave a record in which every
twin reports finite metrics and which states at least one target for the smoke budget, every one of them reached:
a target that a training step which does not learn would miss (accuracy above
chance, a loss below the untrained model's, a training loss that fell).
A downloaded example must also run where only one framework is installed, in a fresh process
of its own (simulated by making the other framework's import fail), and as a notebook.
"""

import math
import os
from pathlib import Path

import pytest

from tests import pages
from torchflow.frameworks import LABELS

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted(ROOT.glob("examples/*/plot_*.py"))
TIMEOUT = 600  # generous: the smoke budget asks for seconds, but CI machines vary


def test_examples_are_found():
    assert len(EXAMPLES) >= 2, EXAMPLES


# as the test session's environment has it (the data sources, the cache), in the smoke budget
AS_SET = pages.Setting("examples")


@pytest.mark.examples
@pages.page_run(AS_SET, "path")
@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs_in_smoke_budget(path, page_lane, request):
    stdout, record = page_lane.result(request.node.nodeid).check()
    assert record["budget"] == "smoke"
    assert record["page"] == path.stem  # the comparison page finds the example's record by it
    assert {twin["framework"] for twin in record["twins"]} == {"torch", "tensorflow"}
    assert record["data"], "the page must name the data it used"
    for twin in record["twins"]:
        assert twin["metrics"], twin
        assert all(math.isfinite(v) for v in twin["metrics"].values()), twin
        assert twin["seconds_per_step"], f"{path.name}: every twin records its time per training step"
    assert "with the 'smoke' budget" in stdout and "Built by TorchFlow" in stdout
    # behaviour, not only finite numbers: every page states smoke targets that a broken step would miss
    assert record["targets"], f"{path.name}: no target in the smoke budget (give run.expect a smoke= bound)"
    assert record["misses"] == [], f"{path.name} missed smoke targets:\n" + "\n".join(record["misses"])


# a reader's machine with one framework only, in a fresh process as `python plot_1_vae.py` runs there
ONE_FRAMEWORK = [pages.Setting(f"without-{missing}", fresh=True, block=missing) for missing in ("tensorflow", "torch")]


@pytest.mark.examples
@pages.page_run("setting", page=ROOT / "examples" / "vae" / "plot_1_vae.py")
@pytest.mark.parametrize("setting", ONE_FRAMEWORK, ids=[s.name for s in ONE_FRAMEWORK])
def test_example_runs_with_one_framework(setting, page_lane, request):
    stdout, record = page_lane.result(request.node.nodeid).check()
    present = "torch" if setting.block == "tensorflow" else "tensorflow"
    assert f"the {LABELS[setting.block]} twin was skipped" in stdout
    assert [twin["framework"] for twin in record["twins"]] == [present]
    assert record["skipped"] == [setting.block]


@pytest.mark.examples
def test_example_runs_as_a_notebook(tmp_path):
    """The .ipynb a reader downloads (made by sphinx-gallery's converter) executes cleanly."""
    import nbformat
    from nbclient import NotebookClient

    source = ROOT / "examples" / "vae" / "plot_1_vae.py"
    script = tmp_path / source.name
    script.write_text(source.read_text())
    from sphinx_gallery.notebook import python_to_jupyter_cli

    python_to_jupyter_cli([str(script)])
    notebook = nbformat.read(script.with_suffix(".ipynb"), as_version=4)
    os.environ.setdefault("MPLBACKEND", "Agg")
    NotebookClient(notebook, timeout=TIMEOUT, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = "".join(o.get("text", "") for cell in notebook.cells for o in cell.get("outputs", []))
    assert "with the 'smoke' budget" in outputs and "Built by TorchFlow" in outputs
