"""What the families share: Keras-like initialisation, batch norm, explicit weights, checks -- the TensorFlow twin.

Every family module of :mod:`torchflow.tf` imports TensorFlow (and Keras) and this module,
and no other family (``tests/test_module_imports.py`` keeps it so); :mod:`torchflow.pt.layers`
holds the PyTorch side under the same names, and its docstring the table of both
frameworks' defaults.

The scheme of the book is Keras' default, so this twin mostly *declares* it:

* dense and convolution layers: Glorot-uniform kernels and zero biases, ``**GLOROT`` when the
  layer is made (Keras takes initialisers by keyword, before the weights exist; PyTorch's
  :func:`torchflow.pt.layers.glorot` re-initialises a built layer);
* recurrent layers: Keras' defaults (Glorot-uniform input kernel, orthogonal recurrent
  kernel, zero bias, LSTM forget bias 1 from ``unit_forget_bias``; ``GRU(reset_after=True)``,
  which is PyTorch's GRU). Nothing to do here: the PyTorch twin copies them with
  :func:`torchflow.pt.layers.keras_recurrent_init`, and :mod:`torchflow.convert` maps the gates;
* embeddings: rows U(-1, 1) (:func:`embedding`; Keras' default is U(-0.05, 0.05));
* :func:`normal_weights`, the DCGAN paper's N(0, 0.02), one initializer a layer.

:class:`BatchNorm` is PyTorch's batch norm in Keras: ``momentum=0.9`` (Keras weights the old
estimate; PyTorch's ``momentum=0.1`` weights the new batch), epsilon 1e-5 (Keras' default is
1e-3), and the moving variance updated with the unbiased batch variance, as PyTorch does.
Explicit-weight models (VAE, GAN) keep a dictionary ``weights`` of named ``tf.Variable`` and
inherit :class:`ExplicitWeights`. :func:`check_positive` is the argument check of every family.

Why Keras' Adam is given dense embedding gradients
--------------------------------------------------
The gradient of an embedding table (and of any ``tf.gather`` from a variable) reaches the optimiser
as ``tf.IndexedSlices``: one slice per looked-up id, so a word that occurs three times in a batch
brings three slices. Keras' Adam updates its second moment slice by slice (its ``square`` is sparse
aware), so that word adds the *sum of the squares* of its three gradients, where PyTorch's dense
gradient adds the *square of their sum*: the two optimisers take different steps from the same
gradient. ``tf.convert_to_tensor(gradient)`` sums the slices into a dense tensor first, and the
update is then PyTorch's; every page that trains an embedding does so before
``optimizer.apply_gradients``, and the parity tests (``dense_gradients_step`` in ``tests/parity.py``)
train both twins that way. The cost is one dense (vocabulary, dimension) gradient a step.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

EMBEDDING_INIT = 1.0  # embedding rows U(-EMBEDDING_INIT, EMBEDDING_INIT)
NORMAL_STD = 0.02  # the DCGAN paper's N(0, 0.02)
GLOROT = {"kernel_initializer": "glorot_uniform", "bias_initializer": "zeros"}  # Keras' Dense/Conv2D defaults


def check_positive(**sizes: int) -> None:
    """Raise ``ValueError`` naming every size below 1 (``check_positive(hidden_dim=0)``)."""
    small = {name: size for name, size in sizes.items() if size < 1}
    if small:
        raise ValueError("sizes must be positive (>= 1): " + ", ".join(f"{k}={v}" for k, v in small.items()))


def normal_weights() -> keras.initializers.RandomNormal:
    """N(0, 0.02): a new initializer for each layer.

    Keras 3 gives an initializer made without a seed a fixed integer seed, drawn from Python's
    ``random`` when it is made: one module-level instance would be seeded at import time (before
    any :func:`~torchflow.seed.seed_everything`, so differently in every process) and would give
    every layer of the same shape the same weights. Made per layer, after the seed is set, the
    initial weights repeat from run to run and differ from layer to layer.
    """
    return keras.initializers.RandomNormal(0.0, NORMAL_STD)


class BatchNorm(keras.layers.BatchNormalization):
    """Keras' batch norm with PyTorch's conventions: momentum 0.1 (Keras' 0.9), eps 1e-5, unbiased running variance.

    In training, both frameworks normalise a batch by its biased variance (the mean
    square deviation over the n values of a channel). PyTorch updates ``running_var``
    with the unbiased one, n / (n - 1) times larger; Keras' own layer updates
    ``moving_variance`` with the biased one (with batch 10 and 1x1 maps in ResNet's
    ``layer4`` that makes PyTorch's estimate 11 % larger). This layer updates it as PyTorch does.
    """

    def __init__(self, momentum: float = 0.9, epsilon: float = 1e-5, **kwargs) -> None:
        super().__init__(momentum=momentum, epsilon=epsilon, **kwargs)

    def call(self, inputs: tf.Tensor, training: bool = False) -> tf.Tensor:
        if not (training and self.trainable):
            return super().call(inputs, training=False)
        mean, variance = tf.nn.moments(inputs, axes=[0, 1, 2])
        count = tf.cast(tf.size(inputs) // tf.shape(inputs)[-1], inputs.dtype)  # n values per channel
        self.moving_mean.assign(self.momentum * self.moving_mean + (1 - self.momentum) * mean)
        self.moving_variance.assign(self.momentum * self.moving_variance
                                    + (1 - self.momentum) * variance * count / (count - 1))
        return tf.nn.batch_normalization(inputs, mean, variance, self.beta, self.gamma, self.epsilon)


def embedding(vocab_size: int, embedding_dim: int) -> keras.layers.Embedding:
    """An embedding table with rows drawn U(-1, 1) (the notes'; see the module docstring)."""
    if vocab_size < 1 or embedding_dim < 1:
        raise ValueError(f"vocab_size and embedding_dim must be >= 1, got {vocab_size} and {embedding_dim}")
    return keras.layers.Embedding(vocab_size, embedding_dim,
                                  embeddings_initializer=keras.initializers.RandomUniform(-EMBEDDING_INIT,
                                                                                          EMBEDDING_INIT))


class ExplicitWeights:
    """Weights as a dictionary ``self.weights`` of named ``tf.Variable``: the explicit-weight families' handling.

    A subclass fills ``self.weights`` (``{"encoder_hidden_w": variable, ...}``); the names are the
    same in both twins, so that :func:`torchflow.convert.copy_weights` moves them by name.
    """

    weights: dict[str, tf.Variable]

    def parameters(self) -> list[tf.Variable]:
        """Every weight, in declaration order: the explicit list an optimiser may change (TF's ``var_list``)."""
        return list(self.weights.values())

    def get_weights(self) -> dict[str, np.ndarray]:
        """A copy of every weight as a NumPy array, by name."""
        return {name: weight.numpy().copy() for name, weight in self.weights.items()}

    def set_weights(self, values: dict[str, np.ndarray]) -> None:
        """Overwrite every weight in place from arrays of the same names and shapes."""
        for name, weight in self.weights.items():
            if tuple(values[name].shape) != tuple(weight.shape):
                raise ValueError(f"{name}: expected shape {tuple(weight.shape)}, got {values[name].shape}")
            weight.assign(values[name])
