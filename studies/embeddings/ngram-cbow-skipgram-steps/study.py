"""Page 1: do longer runs close the gap to the count baselines? PyTorch twin, validation text only.

    python studies/embeddings/ngram-cbow-skipgram-steps/study.py \\
        > studies/embeddings/ngram-cbow-skipgram-steps/results.md

The page's models and settings (vocabulary 1,000, embedding 32, window 1, batches of 128, its learning
rates), trained 20,000 steps (the full budget; the cpu budget is 2,000) and scored at 2,000, 6,000 and
20,000 steps by neighbour agreement against a reference built from the validation text alone (the page's
reference also uses the test text, which a study must not see); the count baselines scored the same way.
"""

from __future__ import annotations

import time

import numpy as np

import torchflow  # noqa: F401  (loads the frameworks in a safe order)

import torch  # isort: skip
import torch.nn.functional as F  # isort: skip

from torchflow.baselines.cooccurrence import ppmi_svd
from torchflow.data import load_shakespeare
from torchflow.metrics import nearest_neighbours, neighbour_agreement_with_noise, ppmi_vectors
from torchflow.prep.words import cbow_examples, ngram_examples, skipgram_examples, split_stream, tokenize
from torchflow.pt import word_embeddings
from torchflow.training import batch_indices

CHECKPOINTS = (2_000, 6_000, 20_000)
RATES = {"NGramLM": 3e-3, "CBOW": 1e-2, "SkipGram": 1e-2}


def main() -> None:
    start = time.process_time()
    vocabulary, train_ids, valid_ids, _ = split_stream(tokenize(load_shakespeare().text), 1_000)
    checked = np.arange(200)
    reference = nearest_neighbours(ppmi_vectors(valid_ids, len(vocabulary))[checked], 10)

    def score(table):
        return "{:.3f} ± {:.3f}".format(*neighbour_agreement_with_noise(nearest_neighbours(table[checked], 10),
                                                                          reference))

    print("# Page 1: neighbour agreement against longer training\n\nReference: PPMI neighbours (window 2) of "
          "the validation text only.\n\n| embedding | " + " | ".join(f"{s:,} steps" for s in CHECKPOINTS)
          + " |\n|---|" + "---|" * len(CHECKPOINTS))
    print(f"| PPMI-SVD, 32 dims, window 1 (training text) | {score(ppmi_svd(train_ids, 1_000, 32, 1))} | | |")
    print(f"| PPMI-SVD, 32 dims, window 2 (training text) | {score(ppmi_svd(train_ids, 1_000, 32, 2))} | | |")
    print(f"| PPMI rows, window 2 (training text) | {score(ppmi_vectors(train_ids, 1_000))} | | |", flush=True)
    make = {"SkipGram": (lambda ids: skipgram_examples(ids, 1), {}),  # the page's best network first
            "CBOW": (lambda ids: cbow_examples(ids, 1), dict(context_size=2)),
            "NGramLM": (lambda ids: ngram_examples(ids, 2), dict(context_size=2, hidden_dim=128))}
    for name, (examples, kwargs) in make.items():
        x, y = map(torch.as_tensor, examples(train_ids))
        torch.manual_seed(0)
        model = getattr(word_embeddings, name)(len(vocabulary), 32, **kwargs)
        optimizer = torch.optim.Adam(model.parameters(), lr=RATES[name], eps=1e-8)
        cells = []
        for step, index in enumerate(batch_indices(len(y), 128, CHECKPOINTS[-1], 0), 1):
            loss = F.cross_entropy(model(x[index]), y[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if step in CHECKPOINTS:
                cells.append(score(model.embeddings.weight.detach().numpy()))
        print(f"| {name} (lr {RATES[name]:g}) | " + " | ".join(cells) + " |", flush=True)
    print(f"\n{time.process_time() - start:.0f} s of CPU time "
          "(`python studies/embeddings/ngram-cbow-skipgram-steps/study.py`).")


if __name__ == "__main__":
    main()
