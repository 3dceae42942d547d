"""Write ``results.md`` from ``results.jsonl``, both beside this script (the study's folder)."""
import json
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
rows = [json.loads(line) for line in (HERE / "results.jsonl").read_text().splitlines()
        if line.startswith("{")]
runs = [r for r in rows if "study" not in r]
study = [r for r in rows if "study" in r]
lines = ["# The translation page's decoders over seeds of both twins (validation BLEU)", "",
         "`python studies/seq2seq/decoder-seeds/study.py 0,1,2 400 3e-3` (one process; results, one JSON line per",
         "run, in `studies/seq2seq/decoder-seeds/results.jsonl`, which the page prints from). The page's",
         "configuration: hidden 64, batches of 128, 400 steps, teacher forcing 0.5 drawn per decoder step, each",
         "decoder at its own learning rate (plain 2e-2, location-based 1e-2, Luong general 3e-3, from",
         "`studies/seq2seq/learning-rates/results.md`). Seed `s` draws the initial weights (PyTorch's, copied into",
         "the Keras twin), the batch order and the teacher-forcing draws. Validation split only (1,000 pairs); the",
         "test split is never scored here. The embedded number phrases (the only data this machine has).", "",
         "Measured 2026-12-03 on the shared 2-core machine (load average 20-27 throughout: nine sessions).", ""]
lines += ["## Bahdanau's learning rate", "",
          "Only 3e-3 (the Luong decoder's rate) was measured, on seed 0 of the PyTorch twin: " + ", ".join(
              f"{r['validation_bleu']} validation BLEU at {r['learning_rate']:g} ({r['cpu_seconds']} s CPU)"
              for r in study) + ". At 99.6 there is almost no room above; 1e-2 was started and stopped for lack "
          "of CPU time (the machine's load), so the rate is the one measured, not the best of several.", ""]
lines += ["## Runs", "", "| decoder | twin | seed | validation BLEU | CPU s |", "|---|---|---|---|---|"]
for r in sorted(runs, key=lambda r: (r["decoder"], r["framework"], r["seed"])):
    lines.append(f"| {r['decoder']} | {r['framework']} | {r['seed']} | {r['validation_bleu']} | {r['cpu_seconds']} |")
lines += ["", "## Spread per decoder", "", "| decoder | runs | mean | min | max |", "|---|---|---|---|---|"]
for d in ("plain", "location", "bahdanau", "luong"):
    v = [r["validation_bleu"] for r in runs if r["decoder"] == d]
    if v:
        lines.append(f"| {d} | {len(v)} | {np.mean(v):.1f} | {min(v):.1f} | {max(v):.1f} |")
    else:
        lines.append(f"| {d} | 0 | not measured | | |")
(HERE / "results.md").write_text("\n".join(lines) + "\n")
