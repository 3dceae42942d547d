"""Learning rates of the embeddings pages, chosen on their validation splits (PyTorch twin, the pages' cpu budget).

    python studies/embeddings/learning-rates/study.py [--pages 1 2 3] > studies/embeddings/learning-rates/results.md

Page 1 (N-gram, CBOW, skip-gram): validation cross-entropy after 2,000 steps, per model.
Page 2 (skip-gram with NCE, 64 dimensions): validation NCE loss after 3,000 steps (2-D model: 1,500 steps).
Page 3 (taggers): validation accuracy after 600 steps, per tagger.
The data preparation repeats the pages' (same splits, vocabularies and windows); the test splits are not touched.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import torchflow  # noqa: F401  (loads the frameworks in a safe order)

import torch  # isort: skip
import torch.nn.functional as F  # isort: skip

from torchflow.data import load_pos, load_shakespeare
from torchflow.prep.words import (
    Vocabulary,
    cbow_examples,
    char_ids,
    ngram_examples,
    pad_sequences,
    skipgram_examples,
    split_stream,
    tokenize,
)
from torchflow.pt import nce, tagger, word_embeddings
from torchflow.training import batch_indices, log_uniform_expected, log_uniform_negatives

RATES = (3e-3, 1e-2, 3e-2)


def shakespeare(vocab_size):
    vocabulary, train_ids, valid_ids, _ = split_stream(tokenize(load_shakespeare().text), vocab_size)
    return vocabulary, train_ids, valid_ids


def page_1():
    vocabulary, train_ids, valid_ids = shakespeare(1_000)
    make = {"NGramLM": (lambda ids: ngram_examples(ids, 2), dict(context_size=2, hidden_dim=128)),
            "CBOW": (lambda ids: cbow_examples(ids, 1), dict(context_size=2)),
            "SkipGram": (lambda ids: skipgram_examples(ids, 1), {})}
    print("## Page 1: validation cross-entropy (nats) after 2,000 steps of 128, embedding 32\n")
    print("| model | " + " | ".join(f"lr {r:g}" for r in RATES) + " |\n|---|" + "---|" * len(RATES))
    for name, (examples, kwargs) in make.items():
        (x, y), (vx, vy) = (tuple(map(torch.as_tensor, examples(ids))) for ids in (train_ids, valid_ids))
        row = []
        for rate in RATES:
            torch.manual_seed(0)
            model = getattr(word_embeddings, name)(len(vocabulary), 32, **kwargs)
            optimizer = torch.optim.Adam(model.parameters(), lr=rate, eps=1e-8)
            for index in batch_indices(len(y), 128, 2_000, 0):
                loss = F.cross_entropy(model(x[index]), y[index])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            with torch.no_grad():
                row.append(F.cross_entropy(model(vx[:20_000]), vy[:20_000]).item())
        print(f"| {name} | " + " | ".join(f"**{v:.3f}**" if v == min(row) else f"{v:.3f}" for v in row) + " |")


def page_2():
    vocabulary, train_ids, valid_ids = shakespeare(3_000)
    vocab = len(vocabulary)
    centers, contexts = skipgram_examples(train_ids, 2)
    valid_c, valid_x = (a[:20_000] for a in skipgram_examples(valid_ids, 2))
    noise_ids, noise_expected = log_uniform_negatives(64, vocab, np.random.default_rng(1))
    held_out = tuple(map(torch.as_tensor, (valid_c, valid_x, noise_ids, log_uniform_expected(valid_x, 64, vocab),
                                           noise_expected)))
    print("\n## Page 2: validation NCE loss (64 noise words, fixed) after the page's steps\n")
    print("| model | " + " | ".join(f"lr {r:g}" for r in RATES) + " |\n|---|" + "---|" * len(RATES))
    for dim, steps in ((2, 1_500), (64, 3_000)):
        row = []
        for rate in RATES:
            torch.manual_seed(0)
            model = nce.SkipGramNCE(vocab, dim)
            optimizer = torch.optim.Adam(model.parameters(), lr=rate, eps=1e-8, fused=True)
            rng = np.random.default_rng(0)
            for index in batch_indices(len(centers), 128, steps, 0):
                sampled, sampled_expected = log_uniform_negatives(64, vocab, rng)
                batch = (centers[index], contexts[index], sampled, log_uniform_expected(contexts[index], 64, vocab),
                         sampled_expected)
                loss = model.nce_loss(*map(torch.as_tensor, batch))
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            with torch.no_grad():
                row.append(model.nce_loss(*held_out).item())
        print(f"| SkipGramNCE, dimension {dim} | "
              + " | ".join(f"**{v:.3f}**" if v == min(row) else f"{v:.3f}" for v in row) + " |")


def page_3():
    data = load_pos("train", join_pieces=True)
    cut = int(0.9 * len(data))
    train_words, valid_words = data.words[:cut], data.words[cut:]
    tagset = tuple(sorted(set(data.tagset) | set(load_pos("test", join_pieces=True).tagset)))
    vocabulary = Vocabulary.build((w for s in train_words for w in s), min_count=2, specials=("<pad>", "<unk>"),
                                  unknown="<unk>")
    alphabet = Vocabulary.build((c for s in train_words for w in s for c in w), specials=("<pad>", "<unk>"),
                                unknown="<unk>")

    def arrays(words, tags, max_length=None):
        w = pad_sequences([vocabulary.encode(s) for s in words], max_length=max_length)
        t = pad_sequences([[tagset.index(x) for x in s] for s in tags], max_length=max_length)
        return w, char_ids(words, alphabet, 10, w.shape[1]), t

    train = arrays(train_words, data.tags[:cut], 32)
    valid = tuple(map(torch.as_tensor, arrays(valid_words, data.tags[cut:])))
    print("\n## Page 3: validation accuracy after 600 steps of 32 sentences\n")
    rates = RATES[:2]
    print("| tagger | " + " | ".join(f"lr {r:g}" for r in rates) + " |\n|---|" + "---|" * len(rates))
    for name in ("LSTMTagger", "CharLSTMTagger"):
        kwargs = dict(vocab_size=len(vocabulary), tagset_size=len(tagset), embedding_dim=32, hidden_dim=64)
        if name == "CharLSTMTagger":
            kwargs.update(alphabet_size=len(alphabet), char_embedding_dim=16, char_hidden_dim=32)
        row = []
        for rate in rates:
            torch.manual_seed(0)
            model = getattr(tagger, name)(**kwargs)
            optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=rate, eps=1e-8)
            for index in batch_indices(len(train[0]), 32, 600, 0):
                words, chars, tags = (torch.as_tensor(a[index]) for a in train)
                length = max(16, -(-int((words != 0).sum(1).max()) // 16) * 16)
                words, chars, tags = words[:, :length], chars[:, :length], tags[:, :length]
                scores = model(words) if name == "LSTMTagger" else model(words, chars)
                mask = (words != 0).float()
                loss = (F.cross_entropy(scores.transpose(1, 2), tags, reduction="none") * mask).sum() / mask.sum()
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            with torch.no_grad():
                scores = model(valid[0]) if name == "LSTMTagger" else model(valid[0], valid[1])
                real = valid[0] != 0
                row.append((scores.argmax(-1) == valid[2])[real].float().mean().item())
        print(f"| {name} | " + " | ".join(f"**{v:.2%}**" if v == max(row) else f"{v:.2%}" for v in row) + " |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", nargs="*", type=int, default=[1, 2, 3])
    pages = parser.parse_args().pages
    started = time.process_time()
    print("# Embeddings chapter: learning rates chosen on the validation splits\n")
    print("Generated by `python studies/embeddings/learning-rates/study.py` (PyTorch twin, one thread; the "
          "TensorFlow twin trains identically from the same weights, see the pages). Best value in bold.\n")
    for page in pages:
        {1: page_1, 2: page_2, 3: page_3}[page]()
    print(f"\n({time.process_time() - started:.0f} s of CPU time.)")
