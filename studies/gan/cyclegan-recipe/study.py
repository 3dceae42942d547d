"""The CycleGAN page's sizes, batch, steps and identity weight, chosen on a validation split (PyTorch twin).

Sneakers (A) and ankle boots (B) of the Fashion-MNIST training set; the last 1,000 of each are held
out (not trained on). Four times along training: the judge's rate of classifying translated validation
images as the other domain's class, both directions, the cycle L1 error, the translations' fidelity to
their inputs (torchflow.metrics.translation_fidelity: 0 = the input itself, about 1 = ignores it) and the
process CPU time. First, the same scores for the translators that need no training
(torchflow.baselines.image_translation: the identity, a random target-domain image, the nearest one).
Results: studies/gan/cyclegan-recipe/results.md.

    TORCHFLOW_FRAMEWORKS=torch OMP_NUM_THREADS=1 \
        python studies/gan/cyclegan-recipe/study.py CHANNELS BLOCKS BATCH STEPS IDENTITY \
        [LEARNING_RATE [DECAY_FROM [SEED [CYCLE_WEIGHT [EMA [SAVE]]]]]]

EMA (e.g. 0.99): also score generators whose weights are an exponential moving average of the trained ones.
SAVE: a path where the trained generators are saved; with STEPS 0, the generators saved there are scored.
"""

import copy
import itertools
import sys
import time

import numpy as np

import torchflow  # noqa: F401  (first: the import order of the frameworks)

import torch  # isort: skip

from torchflow.baselines.image_translation import identity_translation, nearest_target_images, random_target_images
from torchflow.data import load_domains
from torchflow.judge import Judge
from torchflow.metrics import translation_fidelity
from torchflow.pt import cyclegan
from torchflow.training import batch_indices

channels, blocks, batch, steps = (int(a) for a in sys.argv[1:5])
identity = float(sys.argv[5])
learning_rate = float(sys.argv[6]) if len(sys.argv) > 6 else 2e-4
decay_from = float(sys.argv[7]) if len(sys.argv) > 7 else 1.0  # linear decay to 0 from this fraction of the steps
seed = int(sys.argv[8]) if len(sys.argv) > 8 else 0
cycle_weight = float(sys.argv[9]) if len(sys.argv) > 9 else 10.0
ema = float(sys.argv[10]) if len(sys.argv) > 10 else 0.0
a, b = load_domains("fashion-mnist", "train")
label_a, label_b = int(a.labels[0]), int(b.labels[0])
a, b = (d.images[:, None].astype(np.float32) / 127.5 - 1 for d in (a, b))
(fit_a, val_a), (fit_b, val_b) = (a[:-1000], a[-1000:]), (b[:-1000], b[-1000:])
judge = Judge.load()
torch.manual_seed(seed)
G_AB, G_BA = cyclegan.Generator(channels, blocks), cyclegan.Generator(channels, blocks)
D_A, D_B = cyclegan.Discriminator(2 * channels), cyclegan.Discriminator(2 * channels)
adam = dict(lr=learning_rate, betas=(0.5, 0.999), eps=1e-8)
g_opt = torch.optim.Adam(itertools.chain(G_AB.parameters(), G_BA.parameters()), **adam)
d_opt = torch.optim.Adam(itertools.chain(D_A.parameters(), D_B.parameters()), **adam)
fit_a, fit_b = torch.as_tensor(fit_a), torch.as_tensor(fit_b)
EMA_AB, EMA_BA = copy.deepcopy(G_AB), copy.deepcopy(G_BA)


def judged(fake_b, fake_a):
    """The judge's rates and the fidelity of translations (N, 1, 28, 28) in [-1, 1] of val_a and val_b."""
    rate_ab = judge.label_accuracy((fake_b[:, 0] + 1) / 2, np.full(len(fake_b), label_b))
    rate_ba = judge.label_accuracy((fake_a[:, 0] + 1) / 2, np.full(len(fake_a), label_a))
    fidelity = translation_fidelity(val_a, fake_b)[0], translation_fidelity(val_b, fake_a)[0]
    return (f"A->B judged B {rate_ab:.3f}, B->A judged A {rate_ba:.3f}, "
            f"fidelity {fidelity[0]:.3f} {fidelity[1]:.3f}")


@torch.no_grad()
def score(G_AB=G_AB, G_BA=G_BA):
    x_a, x_b = torch.as_tensor(val_a), torch.as_tensor(val_b)
    fake_b, fake_a = G_AB(x_a), G_BA(x_b)
    cycle = (cyclegan.reconstruction_loss(x_a, G_BA(fake_b)).item(),
             cyclegan.reconstruction_loss(x_b, G_AB(fake_a)).item())
    return f"{judged(fake_b.numpy(), fake_a.numpy())}, cycle L1 {cycle[0]:.3f} {cycle[1]:.3f}"


print("identity", judged(identity_translation(val_a), identity_translation(val_b)))
pool_a, pool_b = fit_a.numpy(), fit_b.numpy()  # the training images, as the baselines draw them
print("random target image", judged(random_target_images(pool_b, len(val_a)), random_target_images(pool_a, len(val_b))))
print("nearest target image", judged(nearest_target_images(val_a, pool_b), nearest_target_images(val_b, pool_a)))
if steps == 0 and len(sys.argv) > 11:  # STEPS 0 with SAVE: score generators saved by an earlier run
    saved = torch.load(sys.argv[11])
    G_AB.load_state_dict(saved["G_AB"])
    G_BA.load_state_dict(saved["G_BA"])
    print(sys.argv[11], score())
    sys.exit()
print("untrained", score())
started = time.process_time()
for step, (ia, ib) in enumerate(zip(batch_indices(len(fit_a), batch, steps, seed=0),
                                    batch_indices(len(fit_b), batch, steps, seed=1)), 1):
    real_a, real_b = fit_a[ia], fit_b[ib]
    for optimizer in (g_opt, d_opt):
        optimizer.param_groups[0]["lr"] = learning_rate * (
            1.0 if decay_from >= 1 else min(1.0, (1 - (step - 1) / steps) / (1 - decay_from)))
    losses = cyclegan.train_step((G_AB, G_BA), (D_A, D_B), (g_opt, d_opt), real_a, real_b, cycle_weight,
                                 identity)  # the page's step
    if ema:
        with torch.no_grad():
            for averaged, trained in zip(itertools.chain(EMA_AB.parameters(), EMA_BA.parameters()),
                                         itertools.chain(G_AB.parameters(), G_BA.parameters())):
                averaged.lerp_(trained, 1 - ema)
    if step % (steps // 4) == 0:
        print(f"step {step}: G {losses['generators']:.3f} D {losses['discriminators']:.3f}; {score()}; "
              + (f"EMA {ema}: {score(EMA_AB, EMA_BA)}; " if ema else "")
              + f"{time.process_time() - started:.0f} s CPU", flush=True)
if len(sys.argv) > 11:  # SAVE: the trained generators' weights, for a later look at their translations
    torch.save({"G_AB": G_AB.state_dict(), "G_BA": G_BA.state_dict()}, sys.argv[11])
