"""BEGAN on a validation split (PyTorch twin): sample quality, k_t and M_global along training.

The last 5,000 training images are held out (not trained on). Every ``SNAPSHOT`` steps: M_global (mean of
the steps since the last snapshot), k_t, and the KID in judge features of 500 samples against 500
validation images (one full U-statistic: cheap enough to follow training). At every quarter of the run
also the Fréchet distance of 2,000 samples and their diversity (the mean pairwise distance of their judge
features). At the end: KID, precision, recall and memorisation of 2,000 samples
(:func:`torchflow.generative.score`), beside the same scores of the class-conditional diagonal Gaussian
fitted to the training part; the Pearson and Spearman correlations of M_global with the KID over the
snapshots. GAMMA may list several values (``0.2,0.8``): they run one after the other in this process, each
from the same initial weights. With ``--json`` the runs are appended to ``studies/gan/began-recipe/results.json``.
Results: ``studies/gan/began-recipe/results.md``.

    TORCHFLOW_FRAMEWORKS=torch OMP_NUM_THREADS=1 python studies/gan/began-recipe/study.py BATCH LR STEPS GAMMA \
        [LAMBDA_K [LATENT [CHANNELS [K0 [BETA_1 [SEED]]]]]] [--json]   (defaults 0.001, 32, 16, 0.0, 0.5, 0)
"""

import json
import sys
import time
from pathlib import Path

import numpy as np

import torchflow  # noqa: F401  (first: the import order of the frameworks)

import torch  # isort: skip

from torchflow.baselines.images import diagonal_gaussian
from torchflow.data import load_images
from torchflow.generative import score
from torchflow.judge import Judge, frechet_distance
from torchflow.metrics import kernel_inception_distance
from torchflow.pt import began
from torchflow.training import batch_indices

OUT = Path(__file__).with_name("results.json")
SNAPSHOT = 50
write = "--json" in sys.argv
argv = [a for a in sys.argv[1:] if a != "--json"]
batch, learning_rate, steps = int(argv[0]), float(argv[1]), int(argv[2])
gammas = [float(g) for g in argv[3].split(",")]
extra = [float(a) for a in argv[4:]] + [0.001, 32, 16, 0.0, 0.5, 0][len(argv[4:]):]
lambda_k, latent, channels, k_start, beta_1 = extra[0], int(extra[1]), int(extra[2]), extra[3], extra[4]
seed = int(extra[5])
train = load_images("fashion-mnist", "train")
x = train.images.astype(np.float32) / 127.5 - 1
fit, validation, fit_labels = x[:-5000], x[-5000:], train.labels[:-5000]
judge, count = Judge.load(), 2000
unit = (validation + 1) / 2
reference_images, other_real = unit[:count], unit[count : 2 * count]
reference = judge.features(reference_images)
reference_500 = reference[:500]
fit_unit = (fit[:10_000] + 1) / 2  # nearest-neighbour pool for the memorisation ratio
fixed = torch.as_tensor(np.random.default_rng(7).uniform(-1, 1, (count, latent)).astype(np.float32))
train_x = torch.as_tensor(fit[:, None])

gaussian = diagonal_gaussian((fit + 1) / 2, fit_labels, count, seed)[0]
gaussian_values, gaussian_noise, _ = score(judge, gaussian, reference_images, fit_unit, other_real)
print("diagonal Gaussian per class:", {k: round(v, 3) for k, v in gaussian_values.items()}, flush=True)
found = json.loads(OUT.read_text()) if write and OUT.exists() else {"runs": [], "gaussian": {}}
found["gaussian"] = dict(values=gaussian_values, noise=gaussian_noise)



def ranks(values: np.ndarray) -> np.ndarray:
    """Ranks for the Spearman correlation (the values are averages: no ties)."""
    return np.argsort(np.argsort(values)).astype(float)


torch.manual_seed(seed)  # the initial weights, the same for every gamma
start_g, start_d = began.Generator(latent, channels), began.Discriminator(latent, channels)
for gamma in gammas:
    G, D = began.Generator(latent, channels), began.Discriminator(latent, channels)
    G.load_state_dict(start_g.state_dict())
    D.load_state_dict(start_d.state_dict())
    adam = dict(lr=learning_rate, betas=(beta_1, 0.999), eps=1e-8)
    g_opt, d_opt = torch.optim.Adam(G.parameters(), **adam), torch.optim.Adam(D.parameters(), **adam)

    def samples(G=G):
        with torch.no_grad():
            return (G(fixed).numpy()[:, 0] + 1) / 2

    rng = np.random.default_rng(seed + 1)
    started, k, measures, trace = time.process_time(), k_start, [], []
    for step, index in enumerate(batch_indices(len(fit), batch, steps, seed=seed), 1):
        z = torch.as_tensor(rng.uniform(-1, 1, (batch, latent)).astype(np.float32))
        losses = began.train_step(G, D, (g_opt, d_opt), train_x[index], z, k, gamma, lambda_k)  # the page's step
        k = losses["k"]
        measures.append(losses["m_global"])
        if step % SNAPSHOT == 0:
            features = judge.features(samples()[:500])
            kid = kernel_inception_distance(features, reference_500, subsets=1)[0]
            trace.append(dict(step=step, m_global=float(np.mean(measures[-SNAPSHOT:])), k=k, kid_500=kid))
        if step % (steps // 4) == 0:
            features = judge.features(samples())
            distances = np.sqrt(((features[:500, None] - features[None, :500]) ** 2).sum(-1))
            print(f"batch={batch} lr={learning_rate} gamma={gamma} {extra} step {step}: "
                  f"M_global {np.mean(measures[-50:]):.3f}, k {k:.4f}, "
                  f"Fréchet distance {frechet_distance(features, reference):.1f}, "
                  f"diversity {distances[np.triu_indices(500, 1)].mean():.2f}, "
                  f"KID (500) {trace[-1]['kid_500'] if trace else float('nan'):.3f}; "
                  f"{time.process_time() - started:.0f} s CPU", flush=True)
    values, noise, _ = score(judge, samples(), reference_images, fit_unit, other_real)
    m, kid = np.array([t["m_global"] for t in trace]), np.array([t["kid_500"] for t in trace])
    pearson, spearman = (float(np.corrcoef(a, b)[0, 1]) for a, b in ((m, kid), (ranks(m), ranks(kid))))
    print(f"gamma={gamma}: final", {k_: round(v, 3) for k_, v in values.items()},
          f"k_t at zero on {np.mean(np.array([t['k'] for t in trace]) == 0):.0%} of the snapshots; "
          f"M_global against KID over the snapshots: Pearson {pearson:.2f}, Spearman {spearman:.2f}", flush=True)
    found["runs"].append(dict(gamma=gamma, steps=steps, batch=batch, learning_rate=learning_rate, lambda_k=lambda_k,
                              k_start=k_start, seed=seed, final=values, noise=noise, trace=trace,
                              pearson=pearson, spearman=spearman,
                              cpu_seconds=round(time.process_time() - started, 1)))
    if write:
        OUT.write_text(json.dumps(found, indent=1) + "\n")
