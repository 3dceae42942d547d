"""tools/gpu_check.py, the prepared GPU check, run as far as a machine without a GPU allows: it stops
with the fix named where no GPU is there, and on the CPU in the smoke budget it runs a page and
reports its row from the page's own record."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tools" / "gpu_check.py"


def run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=timeout)


def test_without_a_gpu_cuda_stops_at_once_naming_the_fix():
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU: the check would run the pages")
    done = run("--pages", "vae/plot_1_vae")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "PyTorch sees 0 GPU(s)" in done.stdout and "--device cpu" in done.stderr


def test_an_unknown_page_is_refused():
    done = run("--pages", "vae/plot_9_nothing", "--device", "cpu")
    assert done.returncode == 2 and "no such page: vae/plot_9_nothing" in done.stderr


@pytest.mark.examples
def test_on_the_cpu_in_smoke_it_runs_a_page_and_reports_its_record(tmp_path):
    out = tmp_path / "gpu.md"
    done = run("--pages", "rnn/plot_1_classify_surnames", "--device", "cpu", "--budget", "smoke",
               "--out", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    row = next(line for line in out.read_text().splitlines() if line.startswith("| rnn/plot_1_classify_surnames"))
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[2].startswith("cpu, ") and cells[2].endswith(" ms")  # PyTorch's device, mode and ms/step
    assert cells[3].startswith("/CPU:0, ") and cells[3].endswith(" ms")  # TensorFlow's
    assert cells[5] == "0 missed"
    assert "budget 'smoke', device 'cpu'" in out.read_text()


def test_a_page_that_overruns_the_limit_is_reported_not_waited_for():
    done = run("--pages", "rnn/plot_1_classify_surnames", "--device", "cpu", "--budget", "smoke", "--limit", "0")
    assert done.returncode == 1
    assert "| rnn/plot_1_classify_surnames | 0 s | – | – | – | failed: not run: the time limit was spent |" \
        in done.stdout
