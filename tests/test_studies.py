"""The studies behind the pages' settings can be found: every cited path exists, every folder is indexed.

Pure file reading, no network, no framework. The pages (prose and ``run.chosen_by(..., study=...)``), the
package, the docs, the README, CONTRIBUTING, the noxfile, the tools, the tests, CI and the studies
themselves name files under ``benchmarks/`` and ``studies/``, as text (``studies/gan/steps/results.md``)
or as path expressions in code (``ROOT / "studies" / "gan" / "steps" / "results.json"``); each must
exist. A pattern (``studies/<chapter>/<question>/``) is no path and is skipped. Every folder under
``studies/`` that holds files has its row in ``studies/README.md``, and the index's links resolve.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STUDIES = ROOT / "studies"
INDEX = STUDIES / "README.md"
# a path in text; not inside a longer path (``/x/studies/...``) or a word
TEXT_PATH = re.compile(r"(?<![\w./-])(?:benchmarks|studies)/[\w./-]*")
# a path built in code from string parts: "studies" / "gan" / "steps" / "results.json"
CODE_PATH = re.compile(r"""["'](benchmarks|studies)["']((?:\s*/\s*["'][\w.-]+["'])+)""")
PATTERN_NEXT = set("<{*[")  # the path goes on with a placeholder: a pattern, not a file
# folders a tool writes into when it runs; they need not exist in a checkout
WRITTEN_BY_TOOLS = {"studies/book/examples": "tools/run_examples.py"}
GENERATED = {ROOT / "docs" / "comparison.md"}  # written by the docs build from the pages' records


def citing_files() -> list[Path]:
    """Every file of the project that may cite a study (not generated files, not the data)."""
    text_suffixes = {".py", ".md", ".rst", ".toml", ".txt", ""}
    groups = [
        ROOT.glob("examples/**/*"), ROOT.glob("torchflow/**/*.py"), ROOT.glob("tools/**/*"),
        ROOT.glob("tests/**/*.py"), ROOT.glob("studies/**/*"),
        ROOT.glob("docs/*.md"), ROOT.glob("docs/chapters/*.md"), ROOT.glob("docs/_ext/*.py"),
        [ROOT / "docs" / "conf.py", ROOT / "README.md", ROOT / "CONTRIBUTING.md", ROOT / "noxfile.py",
         ROOT / ".ci" / "run"],
    ]
    return sorted({path for group in groups for path in group
                   if path.is_file() and path.suffix in text_suffixes and path not in GENERATED
                   and "__pycache__" not in path.parts})


def cited_paths(text: str) -> set[str]:
    """The ``benchmarks/...`` and ``studies/...`` paths a text names, as paths from the repository root."""
    found = set()
    for match in TEXT_PATH.finditer(text):
        if text[match.end():match.end() + 1] in PATTERN_NEXT:
            continue
        found.add(match.group(0).rstrip(".,:;").rstrip("/"))
    for match in CODE_PATH.finditer(text):
        found.add("/".join([match.group(1), *re.findall(r"""["']([\w.-]+)["']""", match.group(2))]))
    return found


def test_every_cited_study_path_exists():
    missing, seen = [], set()
    for path in citing_files():
        for cited in cited_paths(path.read_text(encoding="utf-8", errors="replace")):
            seen.add(cited)
            if not (ROOT / cited).exists() and cited not in WRITTEN_BY_TOOLS:
                missing.append(f"{path.relative_to(ROOT)} cites {cited}, which does not exist")
    # the scan itself works: the pages' choices and the data files they read are among what it found
    assert {"studies/rnn/hyperparameters/results.md", "studies/gan/steps/results.json",
            "benchmarks/times.toml"} <= seen
    assert not missing, "\n".join(missing)


def test_the_scan_reads_text_paths_code_paths_and_skips_patterns():
    text = ('run.chosen_by("x", study="studies/gan/steps/results.md").  See `benchmarks/times.toml`.\n'
            'ROOT / "studies" / "gan" / "steps" / "results.json"; studies/<chapter>/<question>/ and '
            'https://example.org/studies/elsewhere and `studies/book/examples/<budget>.md`')
    assert cited_paths(text) == {"studies/gan/steps/results.md", "benchmarks/times.toml",
                                 "studies/gan/steps/results.json"}


def study_folders() -> list[str]:
    """Each folder under studies/ holding a file, relative to studies/ (``gan/steps``)."""
    return sorted({str(path.parent.relative_to(STUDIES)) for path in STUDIES.rglob("*")
                   if path.is_file() and path.parent != STUDIES
                   and not any(part.startswith((".", "__")) for part in path.relative_to(STUDIES).parts)})


def test_every_study_folder_has_its_row_in_the_index():
    index = INDEX.read_text(encoding="utf-8")
    folders = study_folders()
    assert "gan/steps" in folders  # the walk found the studies
    unlisted = [folder for folder in folders if not re.search(rf"(?<![\w/-]){re.escape(folder)}/", index)]
    assert not unlisted, f"folders under studies/ without a row in studies/README.md: {unlisted}"


def test_the_index_links_resolve():
    index = INDEX.read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)#\s]+)\)", index)
    assert targets, "the index links no file"
    broken = [t for t in targets if "://" not in t and not (STUDIES / t).exists()]
    assert not broken, f"links in studies/README.md to nothing: {broken}"
