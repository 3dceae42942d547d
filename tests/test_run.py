"""The verdict mechanism: targets against baselines, noise, weak targets, the record and its readers."""

from __future__ import annotations

import json

import pytest

import torchflow
from torchflow.run import Run

BPC = "held-out bits per character"
ACC = "test accuracy"


def make_run(**kwargs) -> Run:
    return Run("demo", budget="cpu", **kwargs)


def test_a_relative_target_is_measured_from_the_strongest_model_baseline():
    run = make_run()
    run.expect(BPC, below_baseline_by=0.1)
    run.baseline(BPC, 3.7, "bigram")
    run.baseline(BPC, 2.56, "interpolated 5-gram")
    run.baseline(BPC, 1.0, "real text", kind="floor")  # not a model: never the one to beat
    assert run.strongest_baseline(BPC).name == "interpolated 5-gram"
    run.record("torch", {BPC: 2.40})
    run.record("tensorflow", {BPC: 2.50})
    verdict = run.verdict()
    (row,) = verdict.rows
    assert row.checks[0].threshold == pytest.approx(2.46)
    assert [c.met for c in row.checks] == [True, False]
    assert verdict.misses == ["TensorFlow: held-out bits per character = 2.5 (target held-out bits per character "
                              "≤ interpolated 5-gram − 0.1 = 2.46)"]
    assert verdict.below_baseline == []  # 2.50 still beats 2.56, by a margin outside zero noise


def test_a_network_that_loses_to_its_baseline_is_listed_apart_from_the_misses():
    run = make_run()
    run.expect(BPC, at_most=3.71)  # an absolute target the network meets
    run.baseline(BPC, 2.56, "interpolated 5-gram")
    run.record("torch", {BPC: 2.88})
    verdict = run.verdict()
    assert verdict.ok
    assert verdict.below_baseline == ["PyTorch does not beat interpolated 5-gram on held-out bits per character: "
                                      "2.88 against interpolated 5-gram 2.56"]
    # and the target is weak: the baseline meets it too
    assert verdict.weak_targets and "interpolated 5-gram" in verdict.weak_targets[0]
    assert "a baseline is not beaten" in verdict._repr_html_()
    record = run.as_dict()
    assert record["below_baseline"] == verdict.below_baseline and record["misses"] == []


def test_higher_is_better_baselines_and_noise():
    run = make_run()
    run.expect(ACC, above_baseline_by=0.0)
    run.baseline(ACC, 0.80, "logistic regression", noise=0.01)
    run.record("torch", {ACC: 0.81}, noise={ACC: 0.01})  # beats it by 1 point, inside 2 * hypot(1, 1) points
    run.record("tensorflow", {ACC: 0.90}, noise={ACC: 0.01})
    verdict = run.verdict()
    torch_check, tf_check = verdict.rows[0].checks
    assert torch_check.met and torch_check.within_noise and torch_check.outcome == "met, within noise"
    assert tf_check.met and not tf_check.within_noise
    assert verdict.below_baseline == ["PyTorch beats logistic regression on test accuracy only within noise: "
                                      "0.81 ± 0.01 against logistic regression 0.8 ± 0.01"]


def test_an_absolute_target_met_by_copies_is_flagged_weak_and_floors_are_exempt():
    run = make_run()
    run.expect("Fréchet ratio", at_most=1 / 3)
    run.baseline("Fréchet ratio", 0.05, "50 training images copied", kind="copy")
    run.baseline("Fréchet ratio", 0.01, "real test images", kind="floor")
    run.record("torch", {"Fréchet ratio": 0.2})
    verdict = run.verdict()
    assert verdict.ok and verdict.below_baseline == []  # copies are not a model to beat
    assert len(verdict.weak_targets) == 1 and "50 training images copied" in verdict.weak_targets[0]
    assert [f.name for f in verdict.floors] == ["real test images"]


def test_bad_declarations_are_refused():
    run = make_run()
    with pytest.raises(ValueError, match="not at_least and at_most"):
        run.expect(ACC, at_least=0.5, at_most=0.9)
    with pytest.raises(ValueError, match="must be >= 0"):
        run.expect(ACC, above_baseline_by=-0.1)
    with pytest.raises(ValueError, match="unknown baseline kind"):
        run.baseline(ACC, 0.5, "x", kind="oracle")
    with pytest.raises(ValueError, match="finite"):
        run.baseline(ACC, float("nan"), "x")
    run.expect(ACC, at_least=0.5)
    with pytest.raises(ValueError, match="both higher-is-better and lower-is-better"):
        run.expect(ACC, at_most=0.9)
    with pytest.raises(ValueError, match="noise given for metrics that were not recorded"):
        run.record("torch", {ACC: 0.6}, noise={"loss": 0.1})
    relative = make_run()
    relative.expect(BPC, below_baseline_by=0.0)
    relative.record("torch", {BPC: 2.0})
    with pytest.raises(ValueError, match="none was declared"):
        relative.verdict()
    undirected = make_run()
    undirected.baseline("loss", 1.0, "mean predictor")
    undirected.record("torch", {"loss": 0.5})
    with pytest.raises(ValueError, match="need a direction"):
        undirected.verdict()


def test_a_twin_handle_records_its_device_clock_and_mode():
    run = make_run()
    framework = torchflow.available_frameworks()[0]
    twin = run.twin(framework, mode="eager")
    for _ in range(3):
        with twin.clock:
            pass
    result = twin.record({ACC: 0.5}, noise={ACC: 0.05})
    assert result.device and result.device == str(twin.device) and result.mode == "eager"
    assert result.seconds_per_step is not None and result.noise == {ACC: 0.05}
    twin.record({ACC: 0.6})  # recording again replaces, never duplicates
    assert [t.metrics[ACC] for t in run.twins] == [0.6]


def test_a_twin_of_a_missing_framework_is_refused(monkeypatch):
    monkeypatch.setenv("TORCHFLOW_FRAMEWORKS", "torch")
    with pytest.raises(RuntimeError, match="guard it with"):
        make_run().twin("tensorflow")


def test_the_record_carries_baselines_checks_and_choices(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCHFLOW_RECORDS", str(tmp_path))
    run = make_run()
    run.expect(BPC, below_baseline_by=0.05)
    run.baseline(BPC, 2.56, "interpolated 5-gram", noise=0.01)
    run.chosen_by("learning rate 3e-3", study="studies/rnn/hyperparameters/results.md",
                  evidence="validation bits per character")
    run.record("torch", {BPC: 2.3}, noise={BPC: 0.01})
    run.finish()
    (path,) = tmp_path.glob("*.json")
    record = json.loads(path.read_text())
    assert record["baselines"][0]["name"] == "interpolated 5-gram"
    assert record["verdict"][0]["checks"][0]["outcome"] == "met"
    assert record["verdict"][0]["baseline"]["value"] == 2.56
    assert record["chosen"] == [{"setting": "learning rate 3e-3", "study": "studies/rnn/hyperparameters/results.md",
                                 "evidence": "validation bits per character"}]
    assert not list(tmp_path.glob(".*tmp"))  # nothing half-written left behind
    html = run.verdict()._repr_html_()
    assert "interpolated 5-gram 2.56 ± 0.01" in html and "learning rate 3e-3" in html


def test_compare_puts_the_twins_side_by_side():
    run = make_run()
    run.expect(ACC, above_baseline_by=0.0)
    run.baseline(ACC, 0.8, "logistic regression")
    run.record("torch", {ACC: 0.9}, seconds_per_step=0.002, device="cpu", mode="eager")
    run.record("tensorflow", {ACC: 0.88}, seconds_per_step=0.004, device="/CPU:0", mode="XLA")
    table = run.compare()
    text = repr(table)
    assert text.splitlines()[0].split() == ["PyTorch", "TensorFlow", "gap"]
    assert "2.2%" in text and "2.00" in text and "4.00" in text and "XLA" in text
    assert "logistic regression" in text
    assert "<table" in table._repr_html_()


def test_the_page_id_is_the_script_name(monkeypatch):
    monkeypatch.setattr("sys.argv", ["/x/examples/rnn/plot_4_char_rnn.py"])
    assert Run("ignored-name", budget="cpu").id == "plot_4_char_rnn"
    monkeypatch.setattr("sys.argv", ["ipykernel_launcher.py"])
    assert Run("notebook-name", budget="cpu").id == "notebook-name"


def test_the_keyword_gives_the_direction_even_without_a_target_in_this_budget():
    run = make_run()
    assert run.expect("KID", below_baseline_by=None) is None  # e.g. scaled(smoke=None, ...)
    run.baseline("KID", 6.0, "diagonal Gaussian")
    run.baseline("KID", 9.0, "untrained generator")
    assert run.strongest_baseline("KID").name == "diagonal Gaussian"
    run.record("torch", {"KID": 7.0})
    assert run.verdict().rows == [] and "does not beat diagonal Gaussian" in run.verdict().below_baseline[0]


def test_targets_are_weak_only_when_one_baseline_meets_them_all():
    run = make_run()
    run.expect("KID", below_baseline_by=0.0)
    run.expect("recall", at_least=0.25)
    run.expect("memorisation ratio", at_least=0.8)
    run.baseline("KID", 5.8, "pixel Gaussian")
    run.baseline("recall", 0.0, "pixel Gaussian")
    for name, kid, recall, memory in (("50 copies", 0.37, 0.0, 0.0), ("2,000 copies", -0.02, 0.89, 0.0),
                                      ("prototypes", 9.5, 0.0, 1.45)):
        run.baseline("KID", kid, name, kind="copy")
        run.baseline("recall", recall, name, kind="copy")
        run.baseline("memorisation ratio", memory, name, kind="copy")
    run.record("torch", {"KID": 2.7, "recall": 0.27, "memorisation ratio": 2.0})
    verdict = run.verdict()
    assert verdict.ok and verdict.weak_targets == []  # every baseline fails at least one target
    kid_row = verdict.rows[0]
    assert {b.name for b in kid_row.weak} == {"50 copies", "2,000 copies"}  # the Gaussian itself does not count
    assert len(verdict.also_met) == 3
    run.baseline("memorisation ratio", 0.9, "pixel Gaussian", kind="model")
    assert run.verdict().weak_targets == []  # the Gaussian still fails KID and recall
    run.baseline("memorisation ratio", 1.0, "2,000 copies, jittered", kind="copy")
    run.baseline("KID", 0.0, "2,000 copies, jittered", kind="copy")
    run.baseline("recall", 0.8, "2,000 copies, jittered", kind="copy")
    assert run.verdict().weak_targets == ["2,000 copies, jittered meets every target too (KID, recall, memorisation "
                                          "ratio): the targets do not tell the network from it"]
