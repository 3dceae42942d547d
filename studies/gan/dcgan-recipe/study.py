"""The DCGAN page's width, batch size and steps, chosen on a validation split (PyTorch twin).

The last 5,000 training images are held out (not trained on); the Fréchet distance in the judge's
features of 2,000 samples (evaluation mode, and training mode for comparison) against 2,000 of them
is printed four times along training, with the process CPU time. Results: studies/gan/dcgan-recipe/results.md.

    TORCHFLOW_FRAMEWORKS=torch OMP_NUM_THREADS=1 python studies/gan/dcgan-recipe/study.py CHANNELS BATCH STEPS
"""

import sys
import time

import numpy as np

import torchflow  # noqa: F401  (first: the import order of the frameworks)

import torch  # isort: skip

from torchflow.data import load_images
from torchflow.judge import Judge, frechet_distance
from torchflow.pt import dcgan
from torchflow.training import batch_indices

channels, batch, steps = (int(a) for a in sys.argv[1:4])
x = load_images("fashion-mnist", "train").images.astype(np.float32) / 127.5 - 1
fit, validation = x[:-5000], x[-5000:]
judge, count = Judge.load(), 2000
reference = judge.features((validation[:count] + 1) / 2)
print("real vs real (validation)", frechet_distance(judge.features((validation[count : 2 * count] + 1) / 2), reference))
torch.manual_seed(0)
G, D = dcgan.Generator(channels=channels), dcgan.Discriminator(channels=channels)
adam = dict(lr=2e-4, betas=(0.5, 0.999), eps=1e-8)
g_opt, d_opt = torch.optim.Adam(G.parameters(), **adam), torch.optim.Adam(D.parameters(), **adam)
fixed = torch.as_tensor(np.random.default_rng(7).standard_normal((count, 100)).astype(np.float32))
train_x = torch.as_tensor(fit[:, None])


def score(mode):
    G.train(mode == "train")
    with torch.no_grad():
        samples = torch.cat([G(fixed[i : i + batch]) for i in range(0, count, batch)]).numpy()[:, 0]
    G.train()
    return frechet_distance(judge.features((samples + 1) / 2), reference)


print("untrained", score("eval"), score("train"))
rng = np.random.default_rng(1)
started = time.process_time()
for step, index in enumerate(batch_indices(len(fit), batch, steps, seed=0), 1):
    z = torch.as_tensor(rng.standard_normal((batch, 100)).astype(np.float32))
    dcgan.train_step(G, D, (g_opt, d_opt), train_x[index], z)  # the page's step
    if step % (steps // 4) == 0:
        print(f"c={channels} batch={batch} step {step}: Fréchet distance {score('eval'):.1f} (eval mode), "
              f"{score('train'):.1f} (training mode); {time.process_time() - started:.0f} s CPU", flush=True)
