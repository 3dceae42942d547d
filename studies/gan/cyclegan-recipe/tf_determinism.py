"""Does the TensorFlow twin repeat itself? 100 CycleGAN training steps, twice, on the CPU.

Prints a checksum of the generators' weights after training, and the process CPU time of the
training. Run it in separate processes under different settings and compare (results:
studies/gan/cyclegan-recipe/results.md, "Repeatability of the TensorFlow twin"):

    TF_NUM_INTRAOP_THREADS=N python studies/gan/cyclegan-recipe/tf_determinism.py [deterministic] [STEPS]

``deterministic`` calls ``tf.config.experimental.enable_op_determinism()`` first.
"""

import hashlib
import sys
import time

import numpy as np

import torchflow  # noqa: F401  (first: the import order of the frameworks)

import keras  # isort: skip
import tensorflow as tf  # isort: skip

from torchflow.tf import cyclegan

if "deterministic" in sys.argv[1:]:
    tf.config.experimental.enable_op_determinism()
steps = next((int(a) for a in sys.argv[1:] if a.isdigit()), 100)
keras.utils.set_random_seed(0)
rng = np.random.default_rng(0)
x_a = tf.constant(rng.uniform(-1, 1, (256, 28, 28, 1)).astype(np.float32))
x_b = tf.constant(rng.uniform(-1, 1, (256, 28, 28, 1)).astype(np.float32))
G_AB, G_BA = cyclegan.Generator(8, 2), cyclegan.Generator(8, 2)
D_A, D_B = cyclegan.Discriminator(16), cyclegan.Discriminator(16)
g_vars = G_AB.trainable_variables + G_BA.trainable_variables
d_vars = D_A.trainable_variables + D_B.trainable_variables
initial = hashlib.sha1(b"".join(v.numpy().tobytes() for v in g_vars)).hexdigest()[:12]
opt_g, opt_d = (keras.optimizers.Adam(2e-4, beta_1=0.5, epsilon=1e-8) for _ in "GD")
opt_g.build(g_vars)
opt_d.build(d_vars)


@tf.function
def step(index_a, index_b):
    real_a, real_b = tf.gather(x_a, index_a), tf.gather(x_b, index_b)
    with tf.GradientTape() as tape:
        fake_b, fake_a = G_AB(real_a), G_BA(real_b)
        loss = (cyclegan.generator_loss(D_B(fake_b)) + cyclegan.generator_loss(D_A(fake_a))
                + 10 * (cyclegan.reconstruction_loss(real_a, G_BA(fake_b))
                        + cyclegan.reconstruction_loss(real_b, G_AB(fake_a))))
    opt_g.apply_gradients(zip(tape.gradient(loss, g_vars), g_vars))
    with tf.GradientTape() as tape:
        d_loss = (cyclegan.discriminator_loss(D_A(real_a), D_A(tf.stop_gradient(fake_a)))
                  + cyclegan.discriminator_loss(D_B(real_b), D_B(tf.stop_gradient(fake_b))))
    opt_d.apply_gradients(zip(tape.gradient(d_loss, d_vars), d_vars))
    return loss


batches = np.random.default_rng(1).integers(0, 256, (steps, 2, 8))
step(batches[0, 0], batches[0, 1])  # trace (one step more than counted)
started = time.process_time()
for index_a, index_b in batches[1:]:
    loss = step(index_a, index_b)
seconds = time.process_time() - started
final = hashlib.sha1(b"".join(v.numpy().tobytes() for v in g_vars)).hexdigest()[:12]
print(f"deterministic={'deterministic' in sys.argv[1:]} initial {initial} after {steps} steps {final} "
      f"loss {float(loss):.6f}; {1000 * seconds / (steps - 1):.1f} ms CPU a step")
