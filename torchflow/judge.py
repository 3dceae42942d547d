"""The judge: a small CNN classifier that scores generated 28x28 images, and how the generative pages use it.

A generative model has no held-out loss that says how good its images are (a GAN's losses
are each network's progress against the other), so every page of the VAE and GAN chapters
is scored the same way, in the feature space of one fixed network.

**The judge.** Two 3x3 convolutions (16 and 32 channels, each with ReLU and 2x2 max-pooling),
a dense layer of 128 units (ReLU: the *features*, 128 numbers per image) and a dense layer of
10 logits (:mod:`torchflow.pt.judge`, :mod:`torchflow.tf.judge`). It is trained once per data
source on the Fashion-MNIST *training* split -- 3,000 Adam steps of 128 images with random
shifts of up to 2 pixels and mirror images -- and cached in the data directory as
framework-free NumPy weights (PyTorch layout; :mod:`torchflow.convert` moves them into Keras),
so that both twins' images are scored by the very same network. Its accuracy on the 10,000
test images is about 89 % on the full data (88 % for the judge of the 6,000-image embedded
subset; every page prints the cached judge's own figure; the smoke budget trains a judge of
its own for 400 steps, :data:`SMOKE_STEPS`): it confuses shirts, pullovers,
coats and T-shirts among themselves, so a class score is bounded by its accuracy on real
images of that class (:func:`torchflow.generative.requested_class_accuracy` prints both).

**The scores** (:meth:`Judge.quality`, :func:`torchflow.generative.score`), always on sets of
*one size* -- the Fréchet distance and the k-nearest-neighbour radii depend on it:

* *KID*, the kernel inception distance in judge features (unbiased: about 0 for two samples of
  one distribution at any size), with its standard error by half-sampling;
* *precision* (the share of generated images on the real images' manifold: are they
  realistic?) and *recall* (the share of real images on the generated ones' manifold: do they
  cover the data?), each manifold the union of balls reaching a point's 3rd nearest neighbour;
* the *memorisation ratio*: the median distance of a generated image to its nearest training
  image over the same median for real test images (about 1 for new images, 0 for copies);
* the *class histogram* of the judge's predictions (unconditional pages), or the share of
  samples judged as their requested class beside the judge's accuracy on real images of that
  class (conditional pages).

**The baselines** (:func:`torchflow.generative.record_baselines`), scored by the same
functions in the same build and shown in every page's verdict box: training images *copied*
(50 copied over and over, a collapsed generator; as many distinct ones as the scored set, a
perfect memoriser) and the class-mean *prototypes* -- kind ``"copy"``: a quality target must
be one they fail (copies have perfect precision; recall and the memorisation ratio are what
fail them) -- and a class-conditional diagonal *Gaussian* in pixel space, a real generative
model that needs no training (kind ``"model"``: the network must beat it). The *floor* is
another set of real test images of the same size scored against the first: the best any
generator can reach, sampling noise included.

The methods:

* :meth:`Judge.label_accuracy` -- how often the judge sees the requested label
  in conditional samples;
* :meth:`Judge.frechet_distance` -- the Fréchet distance between two sets of
  images in the judge's feature space (an FID with a small, task-specific net);
* :meth:`Judge.quality` -- the metrics that see copies and collapse, on sets of one
  size: KID against a real-vs-real floor, precision and recall, a memorisation
  ratio and the class histogram.
"""

from __future__ import annotations

import hashlib
import json
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from torchflow.budget import scaled
from torchflow.convert import copy_torch_to_keras, keras_state
from torchflow.data.filestore import atomic_path, entry_lock
from torchflow.data.images import load_images
from torchflow.data.store import DataError, data_dir
from torchflow.frameworks import available_frameworks
from torchflow.metrics import (
    class_histogram,
    frechet_distance,  # re-exported: pages and tests import it from here
    kid_half_sampling,
    median_nearest_distance,
    memorisation_ratio,
    precision_recall,
)

LAYERS = ("conv1", "conv2", "fc1", "fc2")
FLATTEN = {"fc1": (32, 7, 7)}
# Training is counted in optimiser steps, not epochs, so that the judge trains as long on the
# 6,000-image embedded subset as on the full 60,000 images; small random shifts and mirror
# images keep it from overfitting the subset (>= 85 % test accuracy on either source).
STEPS, BATCH_SIZE, LEARNING_RATE, ADAM_EPSILON, SEED = 3000, 128, 1e-3, 1e-8, 0
# The smoke budget's judge: the same recipe, 400 steps (about 12 s on one core instead of 90; about 82 %
# test accuracy on the embedded subset), cached under its own name so that it never scores a cpu or full
# build. The smoke budget checks that a page runs and learns, not how good its images are.
SMOKE_STEPS = 400
DECAY_AT, DECAY = 0.7, 0.1  # the learning rate drops tenfold after 70 % of the steps
SHIFT = 2  # pixels, in each direction
VERSION = 2  # part of the cache key: a judge trained by an older recipe is not reused


RECHECK, RECHECK_MARGIN = 500, 0.05  # test images re-scored when a cached judge is loaded; the drop allowed


def weights_digest(weights: dict[str, np.ndarray]) -> str:
    """sha256 over the weights' names, dtypes, shapes and bytes, in name order."""
    digest = hashlib.sha256()
    for name in sorted(weights):
        value = np.ascontiguousarray(weights[name])
        digest.update(f"{name}:{value.dtype.str}:{value.shape}".encode())
        digest.update(value.tobytes())
    return digest.hexdigest()


def _expected_shapes() -> dict[str, tuple[int, ...]] | None:
    """The judge network's parameter shapes (from PyTorch's model), or None where PyTorch is not here."""
    try:
        from torchflow.pt.judge import JudgeNet
    except ImportError:
        return None
    return {k: tuple(v.shape) for k, v in JudgeNet().state_dict().items()}


def as_batch(images: np.ndarray) -> np.ndarray:
    """(N, 28, 28) or (N, 784) images, uint8 or float in [0, 1] -> float32 (N, 28, 28)."""
    images = np.asarray(images)
    scale = 255.0 if images.dtype == np.uint8 else 1.0
    images = images.reshape(len(images), 28, 28).astype(np.float32) / scale
    if images.min(initial=0) < -1e-3 or images.max(initial=0) > 1 + 1e-3:
        raise ValueError("the judge expects images in [0, 1] (or uint8 in [0, 255])")
    return images


@dataclass
class Judge:
    weights: dict[str, np.ndarray]
    test_accuracy: float
    trained_on: str
    framework: str
    # judge outputs of image sets already scored by quality(), by content (least recently used dropped first):
    # a page scores every baseline and both twins against the same reference, training and floor images
    _scored: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict, repr=False, compare=False)
    # what quality() computes from those alone, by their content keys: the real-image floor's scores and the
    # reference's median distance to its nearest training image (the memorisation ratio's denominator)
    _known: dict[tuple, object] = field(default_factory=dict, repr=False, compare=False)

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(cls, dataset: str = "fashion-mnist", steps: int | None = None) -> Judge:
        """The cached judge for ``dataset``, training it first if there is none.

        ``steps``: its training steps; by default :data:`STEPS`, or :data:`SMOKE_STEPS` in the smoke budget.

        A cached judge is used only after three checks: its weights match the checksum stored with them,
        they are finite and of the right shapes, and it still classifies the first :data:`RECHECK` test
        images as well as its recorded test accuracy says (within :data:`RECHECK_MARGIN`). A judge that
        fails any of them is retrained, with a message, never used. Two processes that need the judge
        at once train it once: the second waits for the first (the cache entry's lock)."""
        train = load_images(dataset, "train")
        test = load_images(dataset, "test")
        steps = recipe_steps() if steps is None else steps
        path = cache_path(dataset, train.info.is_subset, steps)
        with entry_lock(path):
            if path.exists():
                try:
                    return cls._read(path, test)
                except DataError as error:
                    print(f"The cached judge is not used: {error}. Retraining it (a few minutes).", flush=True)
            judge = cls.train(train, test, steps)
            with atomic_path(path) as tmp:
                with open(tmp, "wb") as handle:
                    np.savez(handle, **judge.weights, _meta=np.array(json.dumps(
                        {"test_accuracy": judge.test_accuracy, "trained_on": judge.trained_on,
                         "framework": judge.framework, "sha256": weights_digest(judge.weights)})))
            return judge

    @classmethod
    def _read(cls, path: Path, test=None) -> Judge:
        """The judge stored at ``path``, checked (see :meth:`load`); :class:`DataError` says what is wrong."""
        try:
            with np.load(path) as archive:
                meta = json.loads(str(archive["_meta"]))
                weights = {k: archive[k] for k in archive.files if k != "_meta"}
            judge = cls(weights, float(meta["test_accuracy"]), meta["trained_on"], meta["framework"])
            stored = meta.get("sha256")  # judges written before checksums were stored have none
        except (OSError, ValueError, KeyError, EOFError, TypeError, zipfile.BadZipFile) as error:
            raise DataError(f"{path} is unreadable ({type(error).__name__}: {error})") from None
        if stored is not None and weights_digest(weights) != stored:
            raise DataError(f"{path}: the weights do not match the checksum stored with them")
        expected = _expected_shapes()
        if expected is not None and {k: v.shape for k, v in weights.items()} != expected:
            raise DataError(f"{path}: the weights have the wrong names or shapes for this judge")
        if not all(np.isfinite(v).all() for v in weights.values()):
            raise DataError(f"{path}: the weights are not all finite")
        if test is not None:
            count = min(RECHECK, len(test.labels))
            accuracy = float((judge.predict(test.images[:count]) == test.labels[:count]).mean())
            if accuracy < judge.test_accuracy - RECHECK_MARGIN:
                raise DataError(f"{path}: it classifies {accuracy:.1%} of {count} test images, its record says "
                                f"{judge.test_accuracy:.1%}")
        return judge

    @classmethod
    def train(cls, train, test, steps: int = STEPS) -> Judge:
        frameworks = available_frameworks()
        if not frameworks:
            raise RuntimeError("the judge needs PyTorch or TensorFlow: `pip install torch` or `pip install tensorflow`")
        framework = frameworks[0]
        started = time.perf_counter()
        batches = _batches(as_batch(train.images), train.labels, steps)
        weights = (_train_torch if framework == "torch" else _train_tf)(batches)
        judge = cls(weights, 0.0, "", framework)
        judge.test_accuracy = float((judge.predict(test.images) == test.labels).mean())
        judge.trained_on = (f"{train.describe()} ({steps} steps of {BATCH_SIZE}, shifts and mirror images, "
                            f"{framework}, {time.perf_counter() - started:.0f} s)")
        return judge

    # ------------------------------------------------------------------ scoring
    def _forward(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        batch = as_batch(images)
        if self.framework_here() == "torch":
            import torch

            from torchflow.pt.judge import JudgeNet

            model = JudgeNet()
            model.load_state_dict({k: torch.as_tensor(v) for k, v in self.weights.items()})
            model.eval()
            with torch.no_grad():
                features = model.features(torch.as_tensor(batch[:, None]))
                return features.numpy(), model.fc2(features).numpy()
        from torchflow.tf.judge import JudgeNet as KerasCNN

        model = KerasCNN()
        copy_torch_to_keras(self.weights, model, FLATTEN)
        features = model.features(batch[..., None])
        return features.numpy(), model.fc2(features).numpy()

    @staticmethod
    def framework_here() -> str:
        frameworks = available_frameworks()
        if not frameworks:
            raise RuntimeError("the judge needs PyTorch or TensorFlow installed")
        return frameworks[0]

    def predict(self, images: np.ndarray) -> np.ndarray:
        """Predicted labels of ``images``."""
        return np.concatenate([self._forward(images[i : i + 1000])[1].argmax(1)
                               for i in range(0, len(images), 1000)])

    def features(self, images: np.ndarray) -> np.ndarray:
        return np.concatenate([self._forward(images[i : i + 1000])[0] for i in range(0, len(images), 1000)])

    def label_accuracy(self, images: np.ndarray, requested: np.ndarray) -> float:
        """The fraction of ``images`` the judge classifies as their ``requested`` label."""
        return float((self.predict(images) == np.asarray(requested)).mean())

    def frechet_distance(self, images_a: np.ndarray, images_b: np.ndarray) -> float:
        """Fréchet distance between Gaussians fitted to the judge's features of two image sets."""
        return frechet_distance(self.features(images_a), self.features(images_b))

    @staticmethod
    def _key(images: np.ndarray) -> str:
        return f"{images.dtype}{images.shape}" + hashlib.blake2b(images.data, digest_size=16).hexdigest()

    def _keyed_features(self, images: np.ndarray) -> tuple[str, np.ndarray, np.ndarray]:
        """``(content key, features, predicted classes)`` of ``images``, computed once per content."""
        images = np.ascontiguousarray(images)
        key = self._key(images)
        if key in self._scored:
            self._scored[key] = self._scored.pop(key)  # most recently used last
        else:
            if len(self._scored) >= 8:  # a few sets per page; keep memory bounded
                self._scored.pop(next(iter(self._scored)))
            parts = [self._forward(images[i : i + 1000]) for i in range(0, len(images), 1000)]
            self._scored[key] = (np.concatenate([p[0] for p in parts]), np.concatenate([p[1].argmax(1) for p in parts]))
        return (key, *self._scored[key])

    def _features_and_predictions(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self._keyed_features(images)[1:]

    def _once(self, key: tuple, compute):
        """``compute()``, kept under ``key`` (content keys of the sets it reads) for the Judge's lifetime."""
        if key not in self._known:
            self._known[key] = compute()
        return self._known[key]

    def quality(self, samples: np.ndarray, reference: np.ndarray, train: np.ndarray,
                other_real: np.ndarray | None = None, k: int = 3, kid_draws: int = 50,
                num_classes: int = 10) -> dict[str, float | int | np.ndarray]:
        """Generated ``samples`` against real held-out ``reference`` images, in judge features.

        ``samples``, ``reference`` and ``other_real`` (more real held-out images: the floor a perfect
        generator would reach) are cut to their common size first (their first items), because the
        Fréchet distance and the k-NN radii depend on set size. ``train`` is searched for nearest
        neighbours (the copies a generator may have memorised). Keys: ``size``; ``kid`` and
        ``kid standard error`` (the unbiased KID and the error of that estimate,
        :func:`torchflow.metrics.kid_half_sampling`); ``precision`` and ``recall``
        (k-NN manifolds); ``memorisation ratio`` (median distance of a sample to its nearest training
        image over that of a ``reference`` image: about 1 for new images, 0 for copies); ``frechet``;
        ``class histogram`` (shares of the judge's predicted classes); and with ``other_real``, the same
        for real images: ``floor kid``, ``floor kid standard error``, ``floor precision``, ``floor recall``,
        ``floor memorisation ratio``, ``floor frechet``.
        """
        sets = [samples, reference] + ([] if other_real is None else [other_real])
        size = min(len(images) for images in sets)
        if size < 4 or size <= k:
            raise ValueError(f"sets of {size} images are too small for KID and k = {k}")
        fake, predicted = self._features_and_predictions(np.asarray(samples)[:size])
        real_key, real, _ = self._keyed_features(np.asarray(reference)[:size])
        train_key, train_features, _ = self._keyed_features(np.asarray(train))
        median_real = self._once(("median nearest", real_key, train_key),
                                 lambda: median_nearest_distance(real, train_features))

        def scores(features: np.ndarray) -> dict[str, float]:
            kid, kid_error = kid_half_sampling(features, real, draws=kid_draws)
            precision, recall = precision_recall(real, features, k=k)
            return {"kid": kid, "kid standard error": kid_error, "precision": precision, "recall": recall,
                    "memorisation ratio": memorisation_ratio(features, train_features, real, test_median=median_real),
                    "frechet": frechet_distance(features, real)}

        result: dict[str, float | int | np.ndarray] = {"size": size, **scores(fake),
                                                       "class histogram": class_histogram(predicted, num_classes)}
        if other_real is not None:  # the same for every set scored against these real images: computed once
            other_key, other, _ = self._keyed_features(np.asarray(other_real)[:size])
            floor = self._once(("floor", other_key, real_key, train_key, k, kid_draws), lambda: scores(other))
            result.update({f"floor {key}": value for key, value in floor.items()})
        return result

    def frechet_scale(self, reference: np.ndarray, other_real: np.ndarray, untrained: np.ndarray) -> dict[str, float]:
        """The two ends of the Fréchet-distance scale for generated images scored against ``reference``:

        ``"real"``: another set of real images of the same size (what a perfect generator would
        reach, sampling noise included); ``"untrained"``: the samples of a generator before training.
        """
        if len(other_real) != len(reference):
            raise ValueError(f"compare sets of one size: {len(other_real)} real images against {len(reference)}")
        features = self.features(reference)
        return {"real": frechet_distance(self.features(other_real), features),
                "untrained": frechet_distance(self.features(untrained), features)}


def recipe_steps(budget: str | None = None) -> int:
    """The judge's training steps in ``budget`` (default: the active one)."""
    return scaled(smoke=SMOKE_STEPS, cpu=STEPS, full=STEPS, budget=budget)


def cache_path(dataset: str, subset: bool, steps: int = STEPS) -> Path:
    """Where the judge of ``dataset`` (its embedded subset or the full data) trained for ``steps`` is cached.

    A subset's judge never scores full data, nor a smoke judge a cpu build: each has its own file."""
    kind = "subset" if subset else "full"
    recipe = "" if steps == STEPS else f"-{steps}-steps"
    return data_dir() / "judge" / f"{dataset}-{kind}-v{VERSION}{recipe}.npz"


def _batches(images: np.ndarray, labels: np.ndarray, steps: int = STEPS):
    """``steps`` training batches (images (B, 28, 28), labels, learning rate), augmented, the same for any framework."""
    from torchflow.training import batch_indices

    rng = np.random.default_rng(SEED)
    rows = np.arange(28)
    padded = np.pad(images, ((0, 0), (SHIFT, SHIFT), (SHIFT, SHIFT)))
    for step, index in enumerate(batch_indices(len(images), BATCH_SIZE, steps, seed=SEED)):
        dy, dx = rng.integers(0, 2 * SHIFT + 1, (2, len(index)))
        batch = padded[index[:, None, None], dy[:, None, None] + rows[:, None], dx[:, None, None] + rows]
        mirror = rng.random(len(index)) < 0.5
        batch[mirror] = batch[mirror, :, ::-1]
        yield batch, labels[index], LEARNING_RATE * (DECAY if step >= DECAY_AT * steps else 1.0)


def _train_torch(batches) -> dict[str, np.ndarray]:
    import torch

    from torchflow.convert import torch_state
    from torchflow.pt.judge import JudgeNet

    torch.manual_seed(SEED)
    model = JudgeNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE, eps=ADAM_EPSILON)
    for images, labels, learning_rate in batches:
        optimizer.param_groups[0]["lr"] = learning_rate
        loss = torch.nn.functional.cross_entropy(model(torch.as_tensor(images[:, None])), torch.as_tensor(labels))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return torch_state(model)


def _train_tf(batches) -> dict[str, np.ndarray]:
    import keras
    import tensorflow as tf

    from torchflow.tf.judge import JudgeNet

    keras.utils.set_random_seed(SEED)
    model = JudgeNet()
    optimizer = keras.optimizers.Adam(LEARNING_RATE, epsilon=ADAM_EPSILON)
    optimizer.build(model.trainable_variables)

    @tf.function
    def step(images, labels):
        with tf.GradientTape() as tape:
            logits = model(images[..., None])
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits))
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))

    for images, labels, learning_rate in batches:
        optimizer.learning_rate.assign(learning_rate)
        step(tf.constant(images), tf.constant(labels))
    return keras_state(model, LAYERS, FLATTEN)
