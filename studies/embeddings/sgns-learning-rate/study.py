"""Skip-gram with negative sampling (page 2): the learning rate, chosen on the validation split, PyTorch twin.

    python studies/embeddings/sgns-learning-rate/study.py > studies/embeddings/sgns-learning-rate/results.md

The page's settings (vocabulary 3,000, window 2, 64 dimensions, batches of 128, 5 noise words per pair from
the unigram^(3/4) distribution, subsampling t = 1e-3 with the paper's sqrt(t/f)), 3,000 steps (the cpu
budget) for each learning rate. Scored on the validation split only: the SGNS loss of its (not subsampled)
pairs against fixed noise words, and the neighbour agreement against a reference built from the validation
text alone (the page's reference also uses the test text, which a choice must not see).
"""

from __future__ import annotations

import time

import numpy as np

import torchflow  # noqa: F401  (loads the frameworks in a safe order)

import torch  # isort: skip

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
from torchflow.training import batch_indices

RATES = (3e-3, 1e-2, 3e-2)
STEPS, BATCH, K, DIM, WINDOW, T = 3_000, 128, 5, 64, 2, 1e-3


def main() -> None:
    start = time.process_time()
    vocabulary, train_ids, valid_ids, _ = split_stream(tokenize(load_shakespeare().text), 3_000)
    counts = np.array(vocabulary.counts)
    rng = np.random.default_rng(0)
    centers, contexts = skipgram_examples(subsample(train_ids, keep_probability(counts, T), rng), WINDOW)
    noise = unigram_noise(counts)
    valid = skipgram_examples(valid_ids, WINDOW)
    held_out = [torch.as_tensor(a[:20_000]) for a in valid]
    held_out.append(torch.as_tensor(draw_negatives(noise, (len(held_out[0]), K), np.random.default_rng(1))))
    checked = np.arange(200)
    reference = nearest_neighbours(ppmi_vectors(valid_ids, len(vocabulary))[checked], 10)
    print(f"# Skip-gram with negative sampling: learning rate\n\n{STEPS:,} steps of {BATCH} pairs, {K} noise "
          f"words per pair, 64 dimensions; {len(centers):,} training pairs after subsampling. Validation "
          "only.\n\n| learning rate | validation SGNS loss | validation neighbour agreement |\n|---|---|---|")
    for rate in RATES:
        torch.manual_seed(0)
        model = SkipGramNCE(len(vocabulary), DIM)
        optimizer = torch.optim.Adam(model.parameters(), lr=rate, eps=1e-8)
        draws = np.random.default_rng(2)
        for index in batch_indices(len(centers), BATCH, STEPS, 0):
            batch = (centers[index], contexts[index], draw_negatives(noise, (BATCH, K), draws))
            loss = model.sgns_loss(*map(torch.as_tensor, batch))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        with torch.no_grad():
            valid_loss = model.sgns_loss(*held_out).item()
        table = model.embeddings.weight.detach().numpy()
        agreement, error = neighbour_agreement_with_noise(nearest_neighbours(table[checked], 10), reference)
        print(f"| {rate:g} | {valid_loss:.4f} | {agreement:.3f} ± {error:.3f} |")
    print(f"\n{time.process_time() - start:.0f} s of CPU time "
          "(`python studies/embeddings/sgns-learning-rate/study.py`).")


if __name__ == "__main__":
    main()
