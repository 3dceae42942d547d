"""The BEGAN page's batch size, learning rate and steps, chosen on a validation split (PyTorch twin).

The last 5,000 training images are held out (not trained on). Along training: the Fréchet distance in
the judge's features of 2,000 samples against 2,000 validation images, the diversity (mean pairwise
distance of the samples' judge features), M_global and k_t, with the process CPU time.
Results: benchmarks/gan-began-cpu.md.

    TORCHFLOW_FRAMEWORKS=torch OMP_NUM_THREADS=1 python benchmarks/gan_began_choose.py BATCH LR STEPS GAMMA \
        [LAMBDA_K [LATENT [CHANNELS [K0 [BETA_1 [SEED]]]]]]      (defaults 0.001, 32, 16, 0.0, 0.5, 0)
"""

import sys
import time

import numpy as np

import torchflow  # noqa: F401  (first: the import order of the frameworks)

import torch  # isort: skip

from torchflow.data import load_images
from torchflow.judge import Judge, frechet_distance
from torchflow.pt import began
from torchflow.training import batch_indices

batch, learning_rate, steps, gamma = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
extra = [float(a) for a in sys.argv[5:]] + [0.001, 32, 16, 0.0, 0.5, 0][len(sys.argv[5:]):]
lambda_k, latent, channels, k_start, beta_1 = extra[0], int(extra[1]), int(extra[2]), extra[3], extra[4]
seed = int(extra[5])
x = load_images("fashion-mnist", "train").images.astype(np.float32) / 127.5 - 1
fit, validation = x[:-5000], x[-5000:]
judge, count = Judge.load(), 2000
reference = judge.features((validation[:count] + 1) / 2)
torch.manual_seed(seed)  # the initial weights (the batches and noise do not change)
G, D = began.Generator(latent, channels), began.Discriminator(latent, channels)
adam = dict(lr=learning_rate, betas=(beta_1, 0.999), eps=1e-8)
g_opt, d_opt = torch.optim.Adam(G.parameters(), **adam), torch.optim.Adam(D.parameters(), **adam)
fixed = torch.as_tensor(np.random.default_rng(7).uniform(-1, 1, (count, latent)).astype(np.float32))
train_x = torch.as_tensor(fit[:, None])


def score():
    with torch.no_grad():
        features = judge.features((G(fixed).numpy()[:, 0] + 1) / 2)
    distances = np.sqrt(((features[:500, None] - features[None, :500]) ** 2).sum(-1))
    return frechet_distance(features, reference), distances[np.triu_indices(500, 1)].mean()


rng = np.random.default_rng(1)
started, k, measures = time.process_time(), k_start, []
for step, index in enumerate(batch_indices(len(fit), batch, steps, seed=0), 1):
    z = torch.as_tensor(rng.uniform(-1, 1, (batch, latent)).astype(np.float32))
    losses = began.train_step(G, D, (g_opt, d_opt), train_x[index], z, k, gamma, lambda_k)  # the page's step
    k = losses["k"]
    measures.append(losses["m_global"])
    if step % (steps // 4) == 0:
        frechet, diversity = score()
        print(f"batch={batch} lr={learning_rate} gamma={gamma} {extra} step {step}: "
              f"M_global {np.mean(measures[-50:]):.3f}, k {k:.4f}, Fréchet distance {frechet:.1f}, "
              f"diversity {diversity:.2f}; "
              f"{time.process_time() - started:.0f} s CPU", flush=True)
