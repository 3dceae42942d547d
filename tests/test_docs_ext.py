"""The book's Sphinx extensions: the comparison page, the offline MathJax and the committed inventories."""

import io
import json
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "docs"))

from _ext import api_twins, comparison, inventories, mathjax_offline  # noqa: E402

RECORD = {
    "name": "vae", "page": "plot_1_vae", "budget": "cpu", "date": "2026-01-02T03:04:05", "wall_seconds": 61.5,
    "versions": {"python": "3.11", "torch": "2.14", "tensorflow": "2.21"}, "platform": "Linux x86_64, 2 cores",
    "data": ["Fashion-MNIST (train), 60,000 items"],
    "twins": [
        {"framework": "torch", "metrics": {"held-out negative ELBO (nats)": 250.0}, "seconds_per_step": 0.002,
         "train_seconds": 12.0, "peak_memory_mb": 900.0, "device": "cpu"},
        {"framework": "tensorflow", "metrics": {"held-out negative ELBO (nats)": 255.0}, "seconds_per_step": 0.003,
         "train_seconds": 15.0, "peak_memory_mb": 1100.0, "device": "/CPU:0"},
    ],
    "skipped": [], "targets": ["held-out negative ELBO (nats) ≤ 260"], "misses": [], "data_subset": False,
}
JUNIT = """<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" timestamp="2026-01-02T01:00:00">
<testcase classname="tests.test_parity_vae" name="test_same[VAE]" time="0.1"/>
<testcase classname="tests.test_parity_vae" name="test_same[CVAE]" time="0.1"><failure message="x"/></testcase>
<testcase classname="tests.test_parity_vae" name="test_trajectory_stays_together[VAE]" time="0.1"/>
<testcase classname="tests.test_core" name="test_other" time="0.1"/>
</testsuite></testsuites>"""


def _page(tmp_path, records=(RECORD,), junit=JUNIT, extra_record=None):
    records_dir = tmp_path / "records"
    records_dir.mkdir()
    for record in records:
        (records_dir / f"{record['page']}.json").write_text(json.dumps(record))
    if extra_record:
        (records_dir / "broken.json").write_text(extra_record)
    report = tmp_path / "results.xml"
    if junit:
        report.write_text(junit)
    examples = comparison.find_examples(ROOT, ["cnn", "vae"])
    loaded, problems = comparison.load_records(records_dir)
    statuses, when = comparison.load_test_results(report)
    built = {e.docname for e in examples}
    return comparison.render(examples, loaded, problems, statuses, when, report, ROOT, built)


def test_the_examples_are_found_with_their_families_from_the_registry():
    examples = {e.page: e for e in comparison.find_examples(ROOT, ["cnn", "vae"])}
    assert examples["plot_1_vae"].title == "Variational autoencoder"
    assert examples["plot_1_vae"].families == ["vae"]
    assert examples["plot_2_cvae"].families == ["vae", "judge"]
    assert examples["plot_1_vae"].docname == "auto_examples/vae/plot_1_vae"
    assert examples["plot_1_classifier"].families == ["cnn"]
    assert examples["plot_3_transfer_learning"].families == ["resnet"]


def test_every_family_is_declared_with_its_twins_tests_and_pages():
    from torchflow.families import FAMILIES, family

    for declared in FAMILIES.values():
        assert (ROOT / declared.parity_test).is_file(), declared.parity_test
        for source in declared.sources.values():
            assert (ROOT / source).is_file(), source
        for page in declared.pages:
            assert list(ROOT.glob(f"examples/*/{page}.py")), page
    with pytest.raises(KeyError, match="unknown model family 'nope'.*vae"):
        family("nope")


def test_the_page_shows_both_twins_cost_provenance_and_parity(tmp_path):
    page = _page(tmp_path)
    assert "| {doc}`Variational autoencoder </auto_examples/vae/plot_1_vae>` | held-out negative ELBO (nats) " \
           "| 250 | 255 | -5 |" in page  # the difference, PyTorch minus TensorFlow, not a relative gap
    assert "| PyTorch | cpu | – | 2 | 12 | 900 |" in page
    assert "| TensorFlow | /CPU:0 | – | 3 | 15 | 1100 |" in page
    assert "| cpu | 2026-01-02 03:04:05 | 61.5 s |" in page
    assert "Fashion-MNIST (train), 60,000 items" in page
    assert "❌ 1 of 2 failed" in page and "`test_same[CVAE]`" in page
    assert "{ref}`vae: ✅ 1 passed <parity-vae>`" in page  # the trajectory test, counted apart
    assert "```{literalinclude}" not in page  # linked, not inlined (the page was 921 kB)
    assert "/blob/main/tests/test_parity_vae.py)" in page
    assert page.index("## At a glance") < page.index("## Every recorded metric") < page.index(":::{dropdown}")
    assert "{ref}`stn: not in the report <parity-stn>`" in page  # the fixture report has no stn cases
    assert "| held-out negative ELBO (nats) ≤ 260 | – | – | – | cpu, full data | reached |" in page  # an older record
    assert "Conditional VAE" in page and "*not run in this build*" in page  # cvae has no record here


def test_without_records_or_report_the_page_says_so(tmp_path):
    page = _page(tmp_path, records=(), junit=None, extra_record="{not json")
    assert "No example has recorded a run yet" in page
    assert "No test report was found" in page
    assert "unreadable record broken.json" in page


def test_mixed_budgets_are_flagged(tmp_path):
    other = dict(RECORD, name="cvae", page="plot_2_cvae", budget="smoke", misses=["PyTorch: x = 1 (target x ≥ 2)"])
    page = _page(tmp_path, records=(RECORD, other))
    assert "different budgets (cpu, smoke)" in page
    assert "missed: PyTorch: x = 1 (target x ≥ 2)" in page


def _tarball(path: Path, files: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def test_mathjax_is_vendored_from_a_tarball_keeping_what_the_page_loads(tmp_path):
    tarball = _tarball(tmp_path / "mathjax.tgz", {
        "package/es5/tex-mml-chtml.js": b"// mathjax",
        "package/es5/output/chtml/fonts/woff-v2/MathJax_Main-Regular.woff": b"font",
        "package/es5/input/tex/extensions/physics.js": b"// ext",
        "package/es5/tex-svg-full.js": b"// not needed",
        "package/README.md": b"readme",
    })
    target = tmp_path / "static" / "mathjax"
    entry = mathjax_offline.vendor(target, tarball)
    assert entry.read_bytes() == b"// mathjax"
    assert (target / "output/chtml/fonts/woff-v2/MathJax_Main-Regular.woff").is_file()
    assert (target / "input/tex/extensions/physics.js").is_file()
    assert not (target / "tex-svg-full.js").exists() and not (target / "README.md").exists()
    assert mathjax_offline.installed(target)


def test_a_tarball_that_is_not_mathjax_is_refused_and_leaves_nothing(tmp_path):
    tarball = _tarball(tmp_path / "other.tgz", {"package/es5/something.js": b"x"})
    target = tmp_path / "static" / "mathjax"
    with pytest.raises(mathjax_offline.MathJaxUnavailable, match="not a MathJax 3 package"):
        mathjax_offline.vendor(target, tarball)
    assert not target.exists()
    assert not mathjax_offline.installed(target)


def test_without_npm_or_tarball_the_build_warns_and_uses_the_cdn(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no npm here
    monkeypatch.delenv(mathjax_offline.TARBALL_ENV, raising=False)
    warnings = []

    class Logger:
        def warning(self, message, **kwargs):
            warnings.append(message)

        def info(self, message, **kwargs):
            pass

    monkeypatch.setattr("sphinx.util.logging.getLogger", lambda name: Logger())
    app = type("App", (), {"confdir": str(tmp_path)})()
    config = type("Config", (), {"mathjax_path": mathjax_offline.LOCAL_PATH})()
    mathjax_offline._check(app, config)
    assert config.mathjax_path == mathjax_offline.CDN_URL
    assert "npm is not installed" in warnings[0] and "mathjax_offline.py" in warnings[0]


def test_gallery_jobs_default_to_one_and_refuse_nonsense():
    from _ext.jobs import gallery_jobs

    assert gallery_jobs({}) == 1
    assert gallery_jobs({"TORCHFLOW_JOBS": " 2 "}) == 2
    assert gallery_jobs({"TORCHFLOW_JOBS": "auto"}, cores=2) == 2  # what `nox -s docs` asks for
    assert gallery_jobs({"TORCHFLOW_JOBS": "auto"}, cores=16) == 2
    assert gallery_jobs({"TORCHFLOW_JOBS": "auto"}, cores=1) == 1
    for bad in ("0", "-1", "two", "1.5"):
        with pytest.raises(ValueError, match="TORCHFLOW_JOBS"):
            gallery_jobs({"TORCHFLOW_JOBS": bad})


def test_parallel_workers_share_the_cores_for_both_frameworks():
    from _ext.jobs import share_cores

    environ = {}
    assert share_cores(1, environ, cores=2) == 2 and environ == {}  # one at a time: nothing changes
    assert share_cores(2, environ, cores=2) == 1
    assert environ == {"OMP_NUM_THREADS": "1", "TF_NUM_INTRAOP_THREADS": "1"}
    assert share_cores(4, {}, cores=2) == 1  # never below one thread


def test_the_api_reference_lists_every_family_in_chapter_order(tmp_path):
    from torchflow.families import FAMILIES

    (tmp_path / "chapters").mkdir()
    (tmp_path / "chapters" / "vae.md").write_text("# Variational autoencoders\n\ntext\n", encoding="utf-8")
    text = api_twins.twins_rst(tmp_path, ["vae", "cnn"])
    for family in FAMILIES.values():
        for package in ("torchflow.pt", "torchflow.tf"):
            assert f".. automodule:: {package}.{family.module_name}\n   :members: {', '.join(family.classes)}" in text
    # chapters in the given order, titled from their chapter page
    assert text.index("Variational autoencoders\n~~~") < text.index("\ncnn\n~~~")
    assert text.count(".. rubric::") == len(FAMILIES)


def test_the_targets_table_shows_the_baseline_both_twins_and_noise(tmp_path, monkeypatch):
    from torchflow.run import Run

    monkeypatch.setattr("sys.argv", ["plot_1_vae.py"])
    run = Run(budget="cpu")
    run.expect("bits", below_baseline_by=0.05)
    run.baseline("bits", 2.56, "5-gram", noise=0.01)
    run.record("torch", {"bits": 2.40}, noise={"bits": 0.01})
    run.record("tensorflow", {"bits": 2.60}, noise={"bits": 0.01})
    record = dict(RECORD, **{k: v for k, v in run.as_dict().items() if k not in ("versions", "platform")})
    page = _page(tmp_path, records=(record,))
    assert "| bits ≤ 5-gram − 0.05 = 2.51 | 5-gram 2.56 ± 0.01 | ✓ 2.4 ± 0.01 (met) | ✗ 2.6 ± 0.01 (missed) |" in page
    assert "### Networks that do not beat their baseline" in page
    assert "TensorFlow does not beat 5-gram on bits: 2.6 ± 0.01 against 5-gram 2.56 ± 0.01" in page


def test_the_glance_row_shows_the_first_target_its_baseline_both_twins_and_the_verdict():
    record = {"verdict": [{"metric": "bits/char", "target": "≤ 6-gram − 0", "baseline": {"name": "6-gram", "value":
                                                                                       2.3921, "noise": 0.02},
                           "checks": [{"twin": "torch", "met": False, "value": 2.8781, "noise": 0.021},
                                      {"twin": "tensorflow", "met": False, "value": 2.8902, "noise": None}]}],
              "misses": ["PyTorch: ...", "TensorFlow: ..."], "below_baseline": ["PyTorch ..."]}
    assert comparison._headline(record) == ("bits/char ≤ 6-gram − 0", "6-gram: 2.39", "✗ 2.88 ± 0.021", "✗ 2.89",
                                            "missed, below a baseline")
    assert comparison._headline({"verdict": []})[0] == "none in this budget"


def test_the_intersphinx_mapping_reads_committed_inventories_and_points_at_the_online_docs():
    mapping = inventories.intersphinx_mapping()
    assert "python" in mapping  # from Debian's python3.11-doc; the others need `nox -s inventories`
    for name, (url, local) in mapping.items():
        assert url.startswith("https://") and url.endswith("/"), url
        assert Path(local).is_file() and Path(local).parent == ROOT / "docs" / "_inventories"
        assert inventories.check_inventory(Path(local).read_bytes()) > 1000, name
    assert set(mapping) | set(inventories.missing()) == set(inventories.INVENTORIES)
    conf = (ROOT / "docs" / "conf.py").read_text(encoding="utf-8")
    assert "intersphinx_mapping = committed_inventories()" in conf
    assert "reference_url" not in conf  # sphinx-gallery 0.22 ignores it: the links come from intersphinx


def test_a_page_links_python_names_to_the_python_docs_offline(tmp_path):
    """A small Sphinx build with the book's mapping: names resolve from the committed file, no network."""
    from sphinx.application import Sphinx

    source = tmp_path / "src"
    source.mkdir()
    (source / "conf.py").write_text(
        "extensions = ['sphinx.ext.intersphinx']\n"
        f"intersphinx_mapping = {inventories.intersphinx_mapping()!r}\n"
        "intersphinx_timeout = 0.01\n", encoding="utf-8")
    (source / "index.rst").write_text("Page\n====\n\n:func:`textwrap.fill`, :class:`types.SimpleNamespace`, "
                                      ":func:`print`\n", encoding="utf-8")
    app = Sphinx(str(source), str(source), str(tmp_path / "html"), str(tmp_path / "doctrees"), "html",
                 status=None, warning=io.StringIO(), freshenv=True)
    app.build()
    html = (tmp_path / "html" / "index.html").read_text(encoding="utf-8")
    for target in ("library/textwrap.html#textwrap.fill", "library/types.html#types.SimpleNamespace",
                   "library/functions.html#print"):
        assert f'href="https://docs.python.org/3/{target}"' in html, target


def test_refreshing_an_inventory_keeps_the_committed_file_when_the_download_is_not_one(tmp_path, monkeypatch):
    import zlib

    good = (b"# Sphinx inventory version 2\n# Project: NumPy\n# Version: 2\n"
            b"# The remainder of this file is compressed using zlib.\n"
            + zlib.compress(b"numpy.zeros py:function 1 reference/generated/numpy.zeros.html#$ -\n"))
    answers = {"numpy": good, "python": b"<html>a captive portal</html>"}

    class Response(io.BytesIO):
        def __enter__(self):
            return self

        def __exit__(self, *args):
            return False

    def urlopen(url, timeout):
        name = next(n for n, root in inventories.INVENTORIES.items() if url == root + "objects.inv")
        if name not in answers:
            raise OSError("no network")
        return Response(answers[name])

    monkeypatch.setattr(inventories.urllib.request, "urlopen", urlopen)
    (tmp_path / "python.inv").write_bytes(b"committed")
    failed = inventories.refresh(folder=tmp_path)
    assert sorted(failed) == ["matplotlib", "python", "torch"]
    assert (tmp_path / "numpy.inv").read_bytes() == good and (tmp_path / "python.inv").read_bytes() == b"committed"
    assert inventories.check_inventory(good) == 1
    assert set(inventories.intersphinx_mapping(tmp_path)) == {"numpy", "python"}
