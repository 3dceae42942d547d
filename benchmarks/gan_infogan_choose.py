"""Choose the InfoGAN page's recipe on a validation split (never the test set), for both twins.

Trains one twin of :class:`torchflow.pt.gan.InfoGAN` / :class:`torchflow.tf.gan.InfoGAN` on the
first 55,000 Fashion-MNIST training images and scores it every ``--every`` steps against the other
5,000 (the validation split): code-to-class matching accuracy (the judge's classes of 200 samples
per categorical code, best one-to-one assignment) and the judge's Fréchet distance of those 2,000
samples against 2,000 validation images. Both twins start from the same weights (the PyTorch
twin's initial weights, copied into the TensorFlow twin with :func:`torchflow.convert.copy_weights`)
and draw the same batches, noise and codes, so they are one experiment up to float rounding.

With ``--shared`` Q is a head on D's hidden layer (the InfoGAN paper) and the information loss
trains that layer and Q's heads in D's step (G's step changes G only); otherwise Q is a network of
its own, trained with G. Writes one line per evaluation and a summary row (for
``benchmarks/gan-infogan.md``)::

    python benchmarks/gan_infogan_choose.py --framework torch --shared --lam-cat 5 --noise 16 --steps 5000
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np

import torchflow  # noqa: F401  (import order: PyTorch first)

import torch  # isort: skip

from torchflow.data import load_images
from torchflow.judge import Judge
from torchflow.metrics import matching_accuracy
from torchflow.training import batch_indices, fixed_uniform


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--framework", choices=("torch", "tensorflow"), default="torch")
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--every", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--lr-d", type=float, default=1e-3)
    parser.add_argument("--lr-g", type=float, default=1e-3)
    parser.add_argument("--beta1", type=float, default=0.5)
    parser.add_argument("--lam-cat", type=float, default=1.0, help="weight of the categorical information loss")
    parser.add_argument("--lam-cont", type=float, default=1.0, help="weight of the continuous information loss")
    parser.add_argument("--noise", type=int, default=16)
    parser.add_argument("--continuous", type=int, default=2)
    parser.add_argument("--d-hidden", type=int, default=128)
    parser.add_argument("--g-hidden", type=int, default=256)
    parser.add_argument("--shared", action="store_true", help="Q reads D's hidden layer; info loss in D's step too")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tag", default="")
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(1)

    train = load_images("fashion-mnist", "train")
    images = (train.images.reshape(-1, 784) / 255.0).astype(np.float32)
    split = len(images) * 11 // 12
    train_x, validation = images[:split], images[split:]
    judge = Judge.load("fashion-mnist")

    from torchflow.pt.gan import InfoGAN as TorchInfoGAN
    from torchflow.pt.gan import infogan_train_step

    kwargs = dict(noise_dim=args.noise, num_continuous=args.continuous, hidden_dim=args.d_hidden,
                  generator_hidden_dim=args.g_hidden, shared_body=args.shared)
    torch_model = TorchInfoGAN(**kwargs, seed=args.seed)
    count, k = 2000, args.continuous
    scored = (fixed_uniform((count, args.noise), seed=3), np.arange(count) % 10, fixed_uniform((count, k), seed=5))

    if args.framework == "torch":
        model = torch_model
        opt = dict(betas=(args.beta1, 0.999), eps=1e-8)
        d_list = model.discriminator_weights + (model.q_weights if args.shared else [])
        g_list = model.generator_weights + ([] if args.shared else model.q_weights)
        d_opt = torch.optim.Adam(d_list, lr=args.lr_d, **opt)
        g_opt = torch.optim.Adam(g_list, lr=args.lr_g, **opt)
        data = torch.as_tensor(train_x)

        def step_fn(index, noise, cats, cont):  # the page's step (with --shared, Q is trained in D's step)
            z, c1, c2 = torch.as_tensor(noise), torch.as_tensor(cats), torch.as_tensor(cont)
            losses = infogan_train_step(model, (d_opt, g_opt), data[index], z, c1, c2, args.lam_cat, args.lam_cont)
            return losses["categorical"].item()

        @torch.no_grad()
        def generate(noise, cats, cont):
            return model.generate(torch.as_tensor(noise), model.code(torch.as_tensor(cats),
                                                                     torch.as_tensor(cont))).numpy()
    else:
        import keras
        import tensorflow as tf

        from torchflow.convert import copy_weights
        from torchflow.families import family
        from torchflow.tf.gan import InfoGAN as TFInfoGAN
        from torchflow.tf.gan import infogan_train_step as tf_infogan_train_step

        keras.utils.set_random_seed(args.seed)
        model = TFInfoGAN(**kwargs, seed=args.seed)
        copy_weights(torch_model, model, family("gan"))
        data = tf.constant(train_x)
        d_opt = keras.optimizers.Adam(learning_rate=args.lr_d, beta_1=args.beta1, epsilon=1e-8)
        g_opt = keras.optimizers.Adam(learning_rate=args.lr_g, beta_1=args.beta1, epsilon=1e-8)
        d_vars = model.discriminator_weights + (model.q_weights if args.shared else [])
        g_vars = model.generator_weights + ([] if args.shared else model.q_weights)
        d_opt.build(d_vars)
        g_opt.build(g_vars)

        @tf.function(jit_compile=True)
        def graph_step(index, noise, cats, cont):
            losses = tf_infogan_train_step(model, ((d_opt, d_vars), (g_opt, g_vars)), tf.gather(data, index), noise,
                                           cats, cont, args.lam_cat, args.lam_cont)
            return losses["categorical"]

        def step_fn(index, noise, cats, cont):
            return float(graph_step(index, noise, cats, cont))

        def generate(noise, cats, cont):
            return model.generate(tf.constant(noise), model.code(tf.constant(cats), tf.constant(cont))).numpy()

    rng = np.random.default_rng(args.seed + 1)
    started, cpu0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF).ru_utime
    best = (0.0, 0)
    matchings = []
    for step, index in enumerate(batch_indices(split, args.batch, args.steps, args.seed), 1):
        noise = rng.uniform(-1, 1, (args.batch, args.noise)).astype(np.float32)
        cats = rng.integers(0, 10, args.batch)
        cont = rng.uniform(-1, 1, (args.batch, k)).astype(np.float32)
        cross_entropy = step_fn(index, noise, cats, cont)
        if step % args.every == 0:
            samples = generate(*scored)
            accuracy, _ = matching_accuracy(scored[1], judge.predict(samples), 10)
            distance = judge.frechet_distance(samples, validation[:count])
            matchings.append(f"{accuracy:.3f}")
            best = max(best, (accuracy, step))
            cpu = resource.getrusage(resource.RUSAGE_SELF).ru_utime - cpu0
            print(f"step {step}: matching {accuracy:.3f}, FD {distance:.1f}, Q cross-entropy {cross_entropy:.3f} "
                  f"({time.perf_counter() - started:.0f} s wall, {cpu:.0f} s cpu)", flush=True)
    cpu = resource.getrusage(resource.RUSAGE_SELF).ru_utime - cpu0
    settings = {key: value for key, value in vars(args).items() if key not in ("every", "tag", "steps")}
    print(f"| {args.tag} | {args.framework} | {settings} | {' / '.join(matchings)} | {distance:.1f} | {cpu:.0f} |")


if __name__ == "__main__":
    main()
