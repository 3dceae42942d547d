"""InfoGAN on a validation split (never the test set): the continuous code's weight, and the seed spread.

One process trains the page's recipe (``examples/gan/plot_3_infogan.py``: Q on D's hidden layer, D and Q
at 2e-4, G at 1e-3, lambda 2 on the categorical code, batches of 128, z of 16, two continuous codes) for
every combination of

* lambda_cont, the weight of the continuous codes' information loss: 1 (the page as it stood) and 0.1
  (the value widely used implementations take);
* seed 0, 1, 2 (initial weights, batches, noise and codes);
* both twins (the TensorFlow twin starts from the PyTorch twin's initial weights, copied, and sees the same
  batches, noise and codes).

It trains on the first 55,000 Fashion-MNIST training images and scores, every ``--every`` steps, on the
other 5,000 (the validation split): code-to-class matching accuracy (the judge's classes of 200 samples per
categorical code, best one-to-one assignment), the judge's Fréchet distance against 2,000 validation
images, Q's categorical head on the real validation images (accuracy under the code-to-class assignment
found from the samples, and under the best assignment for Q itself), and how well Q reads the continuous
codes back (R^2 of its means against the codes of the 2,000 samples). At the last step also KID, precision
and recall (:func:`torchflow.generative.score`). Results go to ``studies/gan/infogan-recipe/results.json`` after every
run (a partial file survives an interrupted study); ``studies/gan/infogan-recipe/results.md`` reads them.

    OMP_NUM_THREADS=1 python studies/gan/infogan-recipe/study.py [--steps 4000] [--every 2000]
    python studies/gan/infogan-recipe/study.py --report     # the markdown table of the JSON
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

import numpy as np

import torchflow  # noqa: F401  (import order: PyTorch first)

import torch  # isort: skip

from torchflow.data import load_images
from torchflow.generative import KID, PRECISION, RECALL, score
from torchflow.judge import Judge
from torchflow.metrics import matching_accuracy
from torchflow.training import batch_indices, fixed_uniform

OUT = Path(__file__).with_name("results.json")
RECIPE = dict(noise_dim=16, num_continuous=2, hidden_dim=128, generator_hidden_dim=256, shared_body=True)
LR_D, LR_G, BETA_1, BATCH, LAMBDA_CAT = 2e-4, 1e-3, 0.5, 128, 2.0


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def make_twin(framework: str, seed: int, lam_cont: float, train_x: np.ndarray):
    """(step(index, noise, cats, cont), generate(noise, cats, cont), q(images) -> (logits, means))."""
    from torchflow.pt.gan import InfoGAN as TorchInfoGAN
    from torchflow.pt.gan import infogan_train_step

    torch.manual_seed(seed)
    torch_model = TorchInfoGAN(**RECIPE, seed=seed)
    if framework == "torch":
        model = torch_model
        adam = dict(betas=(BETA_1, 0.999), eps=1e-8)
        d_opt = torch.optim.Adam(model.discriminator_weights + model.q_weights, lr=LR_D, **adam)
        g_opt = torch.optim.Adam(model.generator_weights, lr=LR_G, **adam)
        data = torch.as_tensor(train_x)

        def step(index, noise, cats, cont):
            z, c1, c2 = torch.as_tensor(noise), torch.as_tensor(cats), torch.as_tensor(cont)
            infogan_train_step(model, (d_opt, g_opt), data[index], z, c1, c2, LAMBDA_CAT, lam_cont)

        @torch.no_grad()
        def generate(noise, cats, cont):
            code = model.code(torch.as_tensor(cats), torch.as_tensor(cont))
            return model.generate(torch.as_tensor(noise), code).numpy()

        @torch.no_grad()
        def q(images):
            return tuple(t.numpy() for t in model.q(torch.as_tensor(images)))

        return step, generate, q

    import keras
    import tensorflow as tf

    from torchflow.convert import copy_weights
    from torchflow.families import family
    from torchflow.tf.gan import InfoGAN as TFInfoGAN
    from torchflow.tf.gan import infogan_train_step as tf_infogan_train_step

    keras.utils.set_random_seed(seed)
    model = TFInfoGAN(**RECIPE, seed=seed)
    copy_weights(torch_model, model, family("gan"))
    data = tf.constant(train_x)
    d_opt, g_opt = (keras.optimizers.Adam(learning_rate=lr, beta_1=BETA_1, epsilon=1e-8) for lr in (LR_D, LR_G))
    d_vars, g_vars = model.discriminator_weights + model.q_weights, model.generator_weights
    d_opt.build(d_vars)
    g_opt.build(g_vars)

    @tf.function(jit_compile=True)
    def graph_step(index, noise, cats, cont):
        tf_infogan_train_step(model, ((d_opt, d_vars), (g_opt, g_vars)), tf.gather(data, index), noise, cats,
                              cont, LAMBDA_CAT, lam_cont)
        return tf.constant(0.0)

    def step(index, noise, cats, cont):
        graph_step(index, noise, cats, cont).numpy()

    def generate(noise, cats, cont):
        return model.generate(tf.constant(noise), model.code(tf.constant(cats), tf.constant(cont))).numpy()

    def q(images):
        return tuple(t.numpy() for t in model.q(tf.constant(images)))

    return step, generate, q


def evaluate(judge, generate, q, scored, validation, validation_labels) -> dict:
    samples = generate(*scored)
    matching, assignment = matching_accuracy(scored[1], judge.predict(samples), 10)
    logits, _ = q(validation)
    read = logits.argmax(1)
    q_assigned = float((assignment[read] == validation_labels).mean())  # the samples' code -> class map
    q_best, _ = matching_accuracy(read, validation_labels, 10)  # Q's own best map (an upper bound)
    _, means = q(samples)
    residual = ((scored[2] - means) ** 2).sum(0)
    r2 = float(1 - residual.sum() / ((scored[2] - scored[2].mean(0)) ** 2).sum())
    return dict(matching=matching, frechet=judge.frechet_distance(samples, validation[:2000]),
                q_real_assigned=q_assigned, q_real_best=q_best, continuous_r2=r2, samples=samples)


def report() -> None:
    """Print the JSON's runs as the markdown table of ``studies/gan/infogan-recipe/results.md``."""
    runs = json.loads(OUT.read_text())["runs"]
    print("| lambda_cont | seed | twin | matching at 2k / 4k | FD at 4k | Q on real (code map / own map) "
          "| continuous R^2 | KID | precision | recall | CPU s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in sorted(runs, key=lambda r: (-r["lambda_cont"], r["seed"], r["framework"])):
        f = r["final"]
        print(f"| {r['lambda_cont']:g} | {r['seed']} | {r['framework']} | "
              + " / ".join(f"{c['matching']:.3f}" for c in r["curve"])
              + f" | {f['frechet']:.1f} | {f['q_real_assigned']:.3f} / {f['q_real_best']:.3f} | "
              f"{f['continuous_r2']:.3f} | {f[KID]:.2f} | {f[PRECISION]:.3f} | {f[RECALL]:.3f} | "
              f"{r['cpu_seconds']:.0f} |")
    for weight in sorted({r["lambda_cont"] for r in runs}, reverse=True):
        m = np.array([r["final"]["matching"] for r in runs if r["lambda_cont"] == weight])
        q = np.array([r["final"]["q_real_assigned"] for r in runs if r["lambda_cont"] == weight])
        sd = f" ± {m.std(ddof=1):.3f} (sd)" if len(m) > 1 else ""
        print(f"\nlambda_cont {weight:g}: {len(m)} runs, matching {m.mean():.3f}{sd}, Q on real {q.mean():.3f}")


def main() -> None:
    if "--report" in __import__("sys").argv:
        return report()
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--every", type=int, default=2000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--lam-cont", type=float, nargs="+", default=[1.0, 0.1])
    parser.add_argument("--frameworks", nargs="+", default=["torch", "tensorflow"])
    args = parser.parse_args()
    torch.set_num_threads(1)

    train = load_images("fashion-mnist", "train")
    images = (train.images.reshape(-1, 784) / 255.0).astype(np.float32)
    split = len(images) * 11 // 12
    train_x, validation, validation_labels = images[:split], images[split:], train.labels[split:]
    judge = Judge.load("fashion-mnist")
    count = 2000
    scored = (fixed_uniform((count, 16), seed=3), np.arange(count) % 10, fixed_uniform((count, 2), seed=5))
    reference, other_real = validation[:count].reshape(-1, 28, 28), validation[count : 2 * count].reshape(-1, 28, 28)
    memory_pool = train_x[:10_000].reshape(-1, 28, 28)  # nearest-neighbour search for memorisation

    found = json.loads(OUT.read_text()) if OUT.exists() else {"runs": []}
    done = {(r["framework"], r["seed"], r["lambda_cont"]) for r in found["runs"] if r["steps"] == args.steps}
    for seed in args.seeds:  # seed outermost: an interrupted study still compares both weights per seed
        for lam_cont in args.lam_cont:
            for framework in args.frameworks:
                if (framework, seed, lam_cont) in done:
                    continue
                step, generate, q = make_twin(framework, seed, lam_cont, train_x)
                rng = np.random.default_rng(seed + 1)
                started, cpu0, curve = time.perf_counter(), cpu_seconds(), []
                for t, index in enumerate(batch_indices(split, BATCH, args.steps, seed), 1):
                    noise = rng.uniform(-1, 1, (BATCH, 16)).astype(np.float32)
                    cats = rng.integers(0, 10, BATCH)
                    cont = rng.uniform(-1, 1, (BATCH, 2)).astype(np.float32)
                    step(index, noise, cats, cont)
                    if t % args.every == 0:
                        e = evaluate(judge, generate, q, scored, validation, validation_labels)
                        samples = e.pop("samples")
                        curve.append(dict(step=t, **e))
                        print(f"{framework} seed {seed} lambda_cont {lam_cont} step {t}: "
                              + ", ".join(f"{k} {v:.3f}" for k, v in e.items())
                              + f" ({time.perf_counter() - started:.0f} s wall, {cpu_seconds() - cpu0:.0f} s cpu)",
                              flush=True)
                values, noise, _ = score(judge, samples.reshape(-1, 28, 28), reference, memory_pool, other_real)
                entry = dict(framework=framework, seed=seed, lambda_cont=lam_cont, steps=args.steps,
                                          curve=curve, final={**curve[-1], **values},
                                          noise={k: noise[k] for k in (KID, PRECISION, RECALL)},
                                          cpu_seconds=round(cpu_seconds() - cpu0, 1),
                                          wall_seconds=round(time.perf_counter() - started, 1))
                # read again before writing: another process (other seeds) may have added runs meanwhile
                found = json.loads(OUT.read_text()) if OUT.exists() else {"runs": []}
                found["runs"].append(entry)
                OUT.write_text(json.dumps(found, indent=1) + "\n")


if __name__ == "__main__":
    main()
