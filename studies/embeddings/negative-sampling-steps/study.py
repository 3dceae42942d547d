"""Page 2: do longer runs take NCE and SGNS past the count baselines? PyTorch twin, validation split only.

    python studies/embeddings/negative-sampling-steps/study.py > studies/embeddings/negative-sampling-steps/results.md

The page's models and settings (vocabulary 3,000, window 2, 64 dimensions, batches of 128; NCE with 64
log-uniform noise words a batch, SGNS with 5 unigram^(3/4) noise words a pair after subsampling), trained
30,000 steps (the full budget; the cpu budget is 3,000) and scored at 3,000, 10,000 and 30,000 steps on the
validation split: held-out context nats (the full softmax of NCE's scores; of SGNS's scores plus the log
training frequency), against the unigram's on the same pairs, and neighbour agreement against a reference
built from the validation text alone, against the PPMI-SVD's.
"""

from __future__ import annotations

import time

import numpy as np

import torchflow  # noqa: F401  (loads the frameworks in a safe order)

import torch  # isort: skip

from torchflow.baselines.cooccurrence import ppmi_svd, unigram_nats
from torchflow.data import load_shakespeare
from torchflow.metrics import nearest_neighbours, neighbour_agreement_with_noise, ppmi_vectors
from torchflow.prep.words import (
    draw_negatives,
    keep_probability,
    skipgram_examples,
    split_stream,
    subsample,
    tokenize,
    unigram_noise,
)
from torchflow.pt.nce import SkipGramNCE
from torchflow.training import batch_indices, log_uniform_expected, log_uniform_negatives

CHECKPOINTS = (3_000, 10_000, 30_000)


def main() -> None:
    start = time.process_time()
    vocabulary, train_ids, valid_ids, _ = split_stream(tokenize(load_shakespeare().text), 3_000)
    counts = np.array(vocabulary.counts)
    pairs = {"nce": skipgram_examples(train_ids, 2),
             "sgns": skipgram_examples(subsample(train_ids, keep_probability(counts, 1e-3),
                                                 np.random.default_rng(0)), 2)}
    valid_c, valid_x = (torch.as_tensor(a[:20_000]) for a in skipgram_examples(valid_ids, 2))
    checked = np.arange(200)
    reference = nearest_neighbours(ppmi_vectors(valid_ids, len(vocabulary))[checked], 10)
    log_frequency = torch.as_tensor(np.log((counts + 1) / (counts + 1).sum()), dtype=torch.float32)
    noise = unigram_noise(counts)

    def agreement(table):
        return "{:.3f} ± {:.3f}".format(*neighbour_agreement_with_noise(nearest_neighbours(table[checked], 10),
                                                                          reference))

    print("# Page 2: NCE and SGNS against the count baselines, longer runs\n\nValidation split only; "
          f"reference: PPMI neighbours of the validation text.\n\nunigram: "
          f"{unigram_nats(train_ids, valid_x.numpy(), len(vocabulary)).mean():.3f} validation context nats; "
          f"PPMI-SVD (64 dims, window 2): agreement {agreement(ppmi_svd(train_ids, len(vocabulary), 64, 2))}.\n\n"
          "| loss | steps | validation context nats | validation neighbour agreement |\n|---|---|---|---|",
          flush=True)
    for loss in ("nce", "sgns"):
        torch.manual_seed(0)
        model = SkipGramNCE(len(vocabulary), 64)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-2, eps=1e-8, fused=True)
        rng = np.random.default_rng(2)
        centers, contexts = pairs[loss]
        for step, index in enumerate(batch_indices(len(centers), 128, CHECKPOINTS[-1], 0), 1):
            if loss == "nce":
                sampled, expected = log_uniform_negatives(64, len(vocabulary), rng)
                batch = (centers[index], contexts[index], sampled,
                         log_uniform_expected(contexts[index], 64, len(vocabulary)), expected)
            else:
                batch = (centers[index], contexts[index], draw_negatives(noise, (len(index), 5), rng))
            value = getattr(model, f"{loss}_loss")(*map(torch.as_tensor, batch))
            optimizer.zero_grad()
            value.backward()
            optimizer.step()
            if step in CHECKPOINTS:
                with torch.no_grad():
                    logits = model.nce(model.embeddings(valid_c))
                    if loss == "sgns":  # its scores plus the log frequency, in place of the bias it never learns
                        logits = logits - model.nce.bias + log_frequency
                    nats = torch.nn.functional.cross_entropy(logits, valid_x).item()
                print(f"| {loss.upper()} | {step:,} | {nats:.3f} | "
                      f"{agreement(model.embeddings.weight.detach().numpy())} |", flush=True)
    print(f"\n{time.process_time() - start:.0f} s of CPU time "
          "(`python studies/embeddings/negative-sampling-steps/study.py`).")


if __name__ == "__main__":
    main()
