"""Choose the GAN pages' training settings on a validation split (never the test set).

Trains the PyTorch twin of one GAN family model on the first 55,000 training images of
Fashion-MNIST and scores it every ``--every`` steps against the other 5,000 (the validation
split): the judge's Fréchet distance of 2,000 samples against 2,000 validation images, with
the untrained generator's and real-vs-real values; the CGAN's label accuracy; InfoGAN's
code-to-class matching accuracy. Writes one line per evaluation (append to
``benchmarks/gan-steps.md``)::

    python benchmarks/gan_steps.py --model GAN --steps 6000 --lr 2e-4 --beta1 0.5

Each step is the pages' own ``torchflow.pt.gan.train_step`` (``infogan_train_step`` for InfoGAN).
Since that change ``--shared-q`` builds ``InfoGAN(shared_body=True)``, which draws Q's heads at
another point of the seeded stream than the table's runs (made with a separate Q layer patched
out), so those InfoGAN rows repeat up to the initial weights of Q's heads, not bit for bit.
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
from torchflow.pt.gan import CGAN, GAN, InfoGAN, infogan_train_step, train_step
from torchflow.training import batch_indices


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", choices=("GAN", "CGAN", "InfoGAN"), default="GAN")
    parser.add_argument("--steps", type=int, default=6000)
    parser.add_argument("--every", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--lr", type=float, default=2e-4)
    parser.add_argument("--beta1", type=float, default=0.5)
    parser.add_argument("--info-weight", type=float, default=1.0)
    parser.add_argument("--continuous-weight", type=float, default=1.0)
    parser.add_argument("--ema", type=float, default=0.0, help="score an exponential moving average of G's weights")
    parser.add_argument("--shared-q", action="store_true",
                        help="InfoGAN: Q reads D's hidden layer (shared_body=True; Q's heads trained in G's step)")
    parser.add_argument("--paper-q", action="store_true",
                        help="with --shared-q: Q's heads and the information loss in D's step, which trains D's "
                             "hidden layer too (the paper, plot_3_infogan)")
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(1)

    train = load_images("fashion-mnist", "train")
    images = (train.images.reshape(-1, 784) / 255.0).astype(np.float32)
    split = len(images) * 11 // 12
    train_x, train_y = torch.as_tensor(images[:split]), torch.as_tensor(train.labels[:split])
    validation = images[split:]
    judge = Judge.load("fashion-mnist")
    rng = np.random.default_rng(args.seed + 10)

    if args.model == "InfoGAN":  # --shared-q: the InfoGAN paper's Q, heads on the discriminator's hidden layer
        model = InfoGAN(hidden_dim=args.hidden, shared_body=args.shared_q, seed=args.seed)
    elif args.model == "CGAN":
        model = CGAN(hidden_dim=args.hidden, seed=args.seed)
    else:
        model = GAN(hidden_dim=args.hidden, seed=args.seed)
    opts = dict(lr=args.lr, betas=(args.beta1, 0.999), eps=1e-8)
    d_opt = torch.optim.Adam(model.discriminator_weights, **opts)
    g_list = model.generator_weights + (model.q_weights if args.model == "InfoGAN" else [])
    if args.paper_q:  # Q's head is trained in D's step, with D's hidden layer; G's step changes G only
        d_opt = torch.optim.Adam(model.discriminator_weights + model.q_weights, **opts)
        g_list = model.generator_weights
    g_opt = torch.optim.Adam(g_list, **opts)

    count = 2000
    eval_noise = torch.as_tensor(rng.uniform(-1, 1, (count, model.noise_dim)).astype(np.float32))
    eval_labels = torch.as_tensor(np.arange(count) % 10)
    eval_cont = torch.as_tensor(rng.uniform(-1, 1, (count, 2)).astype(np.float32))

    averaged = {n: w.detach().clone() for n, w in model.weights.items() if n.startswith("generator")}

    @torch.no_grad()
    def samples():
        if args.ema:
            current = {n: model.weights[n].detach().clone() for n in averaged}
            for n in averaged:
                model.weights[n].copy_(averaged[n])
            try:
                return plain_samples()
            finally:
                for n in averaged:
                    model.weights[n].copy_(current[n])
        return plain_samples()

    @torch.no_grad()
    def plain_samples():
        if args.model == "InfoGAN":
            return model.generate(eval_noise, model.code(eval_labels, eval_cont)).numpy()
        return model.generate(eval_noise, eval_labels if args.model == "CGAN" else None).numpy()

    scale = judge.frechet_scale(validation[:count], validation[count : 2 * count], samples())
    print(f"# {vars(args)}; FD real-vs-real {scale['real']:.2f}, untrained {scale['untrained']:.2f}")
    started, cpu0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF).ru_utime
    for step, index in enumerate(batch_indices(split, args.batch, args.steps, args.seed), 1):
        x = train_x[index]
        y = train_y[index] if args.model == "CGAN" else None
        noise = torch.rand(args.batch, model.noise_dim) * 2 - 1
        if args.model == "InfoGAN":  # the pages' steps (torchflow.pt.gan), not a copy of them
            cats, cont = torch.randint(0, 10, (args.batch,)), torch.rand(args.batch, 2) * 2 - 1
            infogan_train_step(model, (d_opt, g_opt), x, noise, cats, cont, args.info_weight,
                               args.continuous_weight, q_with_discriminator=args.paper_q)
        else:
            train_step(model, (d_opt, g_opt), x, noise, y)
        if args.ema:
            with torch.no_grad():
                for n, value in averaged.items():
                    value.lerp_(model.weights[n], 1 - args.ema)
        if step % args.every == 0:
            generated = samples()
            line = f"step {step}: FD {judge.frechet_distance(generated, validation[:count]):.2f}"
            if args.model == "CGAN":
                line += f", label accuracy {judge.label_accuracy(generated, eval_labels.numpy()):.3f}"
            if args.model == "InfoGAN":
                accuracy, _ = matching_accuracy(eval_labels.numpy(), judge.predict(generated), 10)
                line += f", matching {accuracy:.3f}"
            cpu = resource.getrusage(resource.RUSAGE_SELF).ru_utime - cpu0
            print(f"{line} ({time.perf_counter() - started:.0f} s wall, {cpu:.0f} s cpu)", flush=True)


if __name__ == "__main__":
    main()
