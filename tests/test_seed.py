"""Repeatability of the TensorFlow twins: seeded once, a training run gives the same weights in every process.

Keras 3 seeds an initializer made without a seed from Python's ``random`` *when it is made*: a
module-level ``keras.initializers.RandomNormal`` (the DCGAN and CycleGAN twins had one) was seeded
at import time, before :func:`torchflow.seed.seed_everything`, so the initial weights changed from
process to process, and every layer of one shape got the same weights. The twins now make one
initializer a layer (:func:`torchflow.tf.layers.normal_weights`). These tests train in two fresh
processes and compare the weights bit for bit, and check that same-shaped layers differ.
"""

import os
import subprocess
import sys

import numpy as np

import keras  # isort: skip

import torchflow
from torchflow.tf import cyclegan as tf_cyclegan
from torchflow.tf import dcgan as tf_dcgan
from torchflow.tf import layers as tf_layers

TRAIN_TWICE = """
import hashlib, numpy as np, torchflow, keras, tensorflow as tf
from torchflow.tf import cyclegan, dcgan
torchflow.seed_everything(0)
G, D, DC = cyclegan.Generator(4, 1), cyclegan.Discriminator(4), dcgan.Generator(8, 8)
x = tf.constant(np.random.default_rng(0).uniform(-1, 1, (8, 28, 28, 1)).astype(np.float32))
optimizer = keras.optimizers.Adam(2e-4, beta_1=0.5)
variables = G.trainable_variables + D.trainable_variables
for _ in range(3):
    with tf.GradientTape() as tape:
        loss = cyclegan.generator_loss(D(G(x))) + cyclegan.reconstruction_loss(x, G(x))
    optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
print(hashlib.sha1(b"".join(v.numpy().tobytes() for v in variables + DC.weights)).hexdigest())
"""


def test_a_tensorflow_training_run_repeats_in_a_new_process():
    env = dict(os.environ, OMP_NUM_THREADS="1", TF_NUM_INTRAOP_THREADS="1", TF_NUM_INTEROP_THREADS="1",
               PYTHONPATH=os.pathsep.join(sys.path))
    digests = [subprocess.run([sys.executable, "-c", TRAIN_TWICE], env=env, capture_output=True, text=True,
                              check=True).stdout.split()[-1] for _ in range(2)]
    assert digests[0] == digests[1]


def test_same_shaped_layers_start_from_different_weights():
    torchflow.seed_everything(0)
    generator = tf_cyclegan.Generator(4, 2)
    kernels = [w.numpy() for w in generator.weights if w.shape == (3, 3, 16, 16)]  # the residual blocks' four
    assert len(kernels) == 4
    assert all(not np.array_equal(a, b) for i, a in enumerate(kernels) for b in kernels[i + 1:])
    first, second = tf_layers.normal_weights(), tf_layers.normal_weights()
    assert not np.array_equal(first((4, 4)), second((4, 4)))


def test_seeding_again_gives_the_same_initial_weights():
    weights = []
    for _ in range(2):
        torchflow.seed_everything(3)
        keras.backend.clear_session()
        weights.append([w.numpy() for w in tf_dcgan.Discriminator(8, 8).weights])
    assert all(np.array_equal(a, b) for a, b in zip(*weights))
