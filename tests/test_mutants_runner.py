"""The mutation-check runner (``tools/mutants.py``) on a toy repository: it refuses a wrong list, and tells a
killed mutant from a survivor and from an error. No framework: a toy module and a toy test, run by pytest."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

RUNNER = Path(__file__).resolve().parent.parent / "tools" / "mutants.py"
spec = importlib.util.spec_from_file_location("mutants_runner", RUNNER)
mutants = importlib.util.module_from_spec(spec)
sys.modules["mutants_runner"] = mutants  # dataclasses look their module up by name
spec.loader.exec_module(mutants)

MODULE = '''def add(a, b):
    return a + b


def unused(a):
    return a  # nothing tests this line
'''
TEST = '''from toy import add


def test_add():
    assert add(2, 3) == 5
'''


def _mutant(id_: str, find: str, replace: str, tests=("test_toy.py",)) -> str:
    tests = ", ".join(f'"{t}"' for t in tests)
    return (f'[[mutant]]\nid = "{id_}"\nwhy = "toy"\ntests = [{tests}]\n'
            f'[[mutant.edit]]\nfile = "toy.py"\nfind = "{find}"\nreplace = "{replace}"\n\n')


@pytest.fixture
def toy(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "toy.py").write_text(MODULE)
    (repo / "test_toy.py").write_text(TEST)
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    lists = tmp_path / "lists"
    lists.mkdir()
    return repo, lists


def test_a_find_that_is_not_unique_is_a_list_error(toy):
    repo, lists = toy
    (lists / "toy.toml").write_text(_mutant("toy-return", "return", "return -1 *"))
    with pytest.raises(mutants.ListError, match="occurs 2 times"):
        mutants.validate(mutants.load(lists), repo)


def test_other_list_errors_are_caught(toy):
    repo, lists = toy
    (lists / "toy.toml").write_text(_mutant("toy-a", "a + b", "a - b") + _mutant("toy-a", "a + b", "a * b")
                                    + _mutant("toy-b", "not in the file", "x")
                                    + _mutant("toy-c", "a + b", "b + a", tests=("tests/missing.py",)))
    with pytest.raises(mutants.ListError) as error:
        mutants.validate(mutants.load(lists), repo)
    message = str(error.value)
    assert "also used" in message and "occurs 0 times" in message and "does not exist" in message
    assert mutants.main(["--lists", str(lists), "--root", str(repo), "--list"]) == 2


def test_killed_survived_and_error_are_told_apart(toy, tmp_path):
    repo, lists = toy
    (lists / "toy.toml").write_text(_mutant("toy-subtracts", "a + b", "a - b")
                                    + _mutant("toy-untested", "return a  #", "return -a  #")
                                    + _mutant("toy-syntax", "def add(a, b):", "def add(a, b)"))
    chosen = mutants.load(lists)
    mutants.validate(chosen, repo)
    report = mutants.run(chosen, repo, jobs=2, timeout=120, log=lambda line: None)
    assert [(o.mutant.id, o.result) for o in report.outcomes] == [
        ("toy-subtracts", "killed"), ("toy-untested", "survived"), ("toy-syntax", "error")]
    assert (repo / "toy.py").read_text() == MODULE  # the checkout itself is never edited
    output = tmp_path / "mutants.md"
    mutants.write_report(report, output, repo)
    text = output.read_text()
    assert "**1 / 3 killed** (1 survived, 1 errors)" in text and "| `toy-untested` | toy |" in text
    # the command line: non-zero while anything survives
    assert mutants.main(["--lists", str(lists), "--root", str(repo), "--output", str(output), "--only",
                         "toy-untested"]) == 1
    assert "**0 / 1 killed** (1 survived, 0 errors)" in output.read_text()


def test_a_test_set_that_fails_unmutated_stops_the_run(toy):
    repo, lists = toy
    (repo / "test_toy.py").write_text(TEST.replace("== 5", "== 6"))
    (lists / "toy.toml").write_text(_mutant("toy-subtracts", "a + b", "a - b"))
    with pytest.raises(RuntimeError, match="fail without any mutant"):
        mutants.run(mutants.load(lists), repo, timeout=120, log=lambda line: None)
