"""The RNN chapter's hyperparameter choices, on validation data only (PyTorch twins, cpu budget).

    PYTHONPATH=. python studies/rnn/hyperparameters/study.py row|char|temperature|classify-steps [steps]

* row: the row-LSTM's learning rate (1e-3, 3e-3), 64 hidden units, 2,000 steps of 128, scored on the
  last 5,000 training images (the page's validation split);
* char: the char-RNN's learning rate (1e-3, 3e-3), 1,200 steps of 64 streams, scored in bits per character
  on the page's validation slice;
* temperature: the surname generator (1,000 steps) sampled at 0.5, 0.7 and 1.0, scored by the judge
  (600 steps) as the share of names assigned to the requested language. Neither uses the test names;
* classify-steps: the surname GRU (128 units, lr 3e-3, batch 64) trained for up to [steps] steps,
  validation accuracy every 1,000 steps, next to the character 1-3-gram naive Bayes of the page
  (add-k chosen on the same validation names): does a longer budget close the gap?
"""

from __future__ import annotations

import sys

import numpy as np

import torchflow  # noqa: F401  isort: skip
import torch  # isort: skip

from torchflow.data import load_images
from torchflow.data.shakespeare import load_shakespeare
from torchflow.data.surnames import load_surnames
from torchflow.prep.characters import Alphabet, name_targets, one_hot, one_hot_batch, pad, text_streams
from torchflow.prep.split import split
from torchflow.pt.rnn import CharRNN, RowLSTM, SurnameClassifier, SurnameGenerator
from torchflow.training import batch_indices, sample_sequence


def adam(model, lr):
    return torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr, eps=1e-8)


def row(lr: float) -> float:
    train = load_images("fashion-mnist", "train")
    images = torch.as_tensor(train.images / np.float32(255)).float()
    labels = torch.as_tensor(train.labels)
    x, y, vx, vy = images[:-5000], labels[:-5000], images[-5000:], labels[-5000:]
    torch.manual_seed(0)
    model = RowLSTM(28, 64, 10)
    optimizer = adam(model, lr)
    for index in batch_indices(len(x), 128, 2000, seed=0):
        loss = torch.nn.functional.cross_entropy(model(x[index]), y[index])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        return float((model(vx).argmax(1) == vy).float().mean())


def char(lr: float) -> float:
    train_text, _ = load_shakespeare().split(0.9)
    alphabet = Alphabet.of(load_shakespeare().text)
    ids = alphabet.encode(train_text)
    cut = int(len(ids) * 0.95)
    rows, val = text_streams(ids[:cut], 64), text_streams(ids[cut:], 50)
    per_epoch = (rows.shape[1] - 1) // 25
    torch.manual_seed(0)
    model = CharRNN(len(alphabet), 32, 128, "lstm")
    optimizer, state = adam(model, lr), None
    for step in range(1200):
        k = step % per_epoch
        state = None if k == 0 else tuple(s.detach() for s in state)
        logits, state = model(torch.as_tensor(rows[:, 25 * k : 25 * k + 25]), state)
        targets = torch.as_tensor(rows[:, 25 * k + 1 : 25 * k + 26])
        loss = torch.nn.functional.cross_entropy(logits.transpose(1, 2), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        logits, _ = model(torch.as_tensor(val[:, :-1]))
        return torch.nn.functional.cross_entropy(logits.transpose(1, 2), torch.as_tensor(val[:, 1:])).item() / np.log(2)


def temperatures(generator_steps: int = 1000) -> dict[float, float]:
    data = load_surnames(ascii_only=True)
    train = split(len(data), validation=1200, test=1200, seed=0).train
    letters_of, alphabet = Alphabet.of(data.names), Alphabet.of(data.names, end=True)
    padded, lengths = pad([alphabet.encode(n) for n in data.names])
    class_padded, class_lengths = pad([letters_of.encode(n) for n in data.names])
    torch.manual_seed(0)
    judge, generator = SurnameClassifier(len(letters_of), 18, 128, "gru"), SurnameGenerator(len(alphabet), 18, 128)
    for model, steps in ((judge, 600), (generator, generator_steps)):
        optimizer = adam(model, 3e-3)
        for index in batch_indices(len(train), 64, steps, seed=0):
            index = train[index]
            if model is judge:
                letters, n = one_hot_batch(class_padded, class_lengths, index, len(letters_of))
                loss = torch.nn.functional.cross_entropy(model(torch.as_tensor(letters), torch.as_tensor(n)),
                                                         torch.as_tensor(data.labels[index]))
            else:
                letters, n = one_hot_batch(padded, lengths, index, len(alphabet))
                targets = name_targets(padded[index, : letters.shape[1]], n, alphabet.end_index)
                loss = model.next_letter_loss(torch.as_tensor(letters), torch.as_tensor(data.labels[index]),
                                              torch.as_tensor(targets))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    shares = {}
    for temperature in (0.5, 0.7, 1.0):
        rng, hits, count = np.random.default_rng(1), 0, 0
        for language in range(18):
            firsts = [data.names[i][0] for i in train if data.labels[i] == language]

            @torch.no_grad()
            def step(ids, state, language=language):
                logits, state = generator(torch.as_tensor(one_hot(ids, len(alphabet))), torch.tensor([language]), state)
                return logits[0, -1].numpy(), state

            for start in rng.choice(firsts, 20):
                name = start + alphabet.decode(sample_sequence(step, alphabet.encode(start), 20, temperature, rng,
                                                               stop=alphabet.end_index))
                encoded, n = pad([letters_of.encode(name)])
                with torch.no_grad():
                    guess = judge(torch.as_tensor(one_hot(encoded, len(letters_of))), torch.as_tensor(n)).argmax(1)
                hits, count = hits + int(guess.item() == language), count + 1
        shares[temperature] = hits / count
    return shares


def classify_steps(steps: int = 4000) -> None:
    from torchflow.baselines.char_bayes import choose_smoothing

    data = load_surnames(ascii_only=True)
    parts = split(len(data), validation=1200, test=1200, seed=0)
    train, val = parts.train, parts.validation
    names = [data.names[i] for i in train], [data.names[i] for i in val]
    k, scores = choose_smoothing(names[0], data.labels[train], names[1], data.labels[val], 18,
                                 smoothings=(1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0))
    print(f"naive Bayes add-{k:g}: validation accuracy {scores[k]:.4f}", flush=True)
    alphabet = Alphabet.of(data.names)
    padded, lengths = pad([alphabet.encode(n) for n in data.names])
    torch.manual_seed(0)
    model = SurnameClassifier(len(alphabet), 18, 128, "gru")
    optimizer = adam(model, 3e-3)
    for step, index in enumerate(batch_indices(len(train), 64, steps, seed=0), 1):
        letters, n = one_hot_batch(padded, lengths, train[index], len(alphabet))
        loss = torch.nn.functional.cross_entropy(model(torch.as_tensor(letters), torch.as_tensor(n)),
                                                 torch.as_tensor(data.labels[train[index]]))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 1000 == 0:
            letters, n = one_hot_batch(padded, lengths, val, len(alphabet))
            with torch.no_grad():
                guess = model(torch.as_tensor(letters), torch.as_tensor(n)).argmax(1).numpy()
            print(f"GRU step {step}: validation accuracy {(guess == data.labels[val]).mean():.4f}", flush=True)


if __name__ == "__main__":
    what = sys.argv[1]
    if what == "classify-steps":
        classify_steps(int(sys.argv[2]) if len(sys.argv) > 2 else 4000)
        sys.exit()
    if what == "row":
        for lr in (1e-3, 3e-3):
            print(f"row-LSTM lr {lr:g}: validation accuracy {row(lr):.4f}", flush=True)
    elif what == "char":
        for lr in (1e-3, 3e-3):
            print(f"char-RNN lr {lr:g}: validation bits per character {char(lr):.4f}", flush=True)
    else:
        steps = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
        for temperature, share in temperatures(steps).items():
            print(f"generator ({steps} steps) temperature {temperature}: judged as requested {share:.4f}", flush=True)
