"""Linear and shallow classifiers on raw pixels, in NumPy: what an image network has to beat.

* :func:`fit_logistic_regression` -- multinomial logistic regression (softmax regression) with an L2
  penalty on the weights (not the biases), fitted full-batch by L-BFGS;
* :func:`choose_l2` -- its penalty chosen on a validation split, then refitted;
* :func:`fit_mlp` -- a one-hidden-layer ReLU network trained by mini-batch Adam, and
  :func:`mlp_hidden_for`, the hidden width that gives it a stated number of parameters.

Everything takes float pixels ``(N, ...)`` (flattened here) and integer labels ``(N,)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np


def _flat(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    return x.reshape(len(x), -1)


def _softmax(logits: np.ndarray) -> np.ndarray:
    """Softmax over the classes (the last axis), shifted by the row maximum so that exp cannot overflow."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


@dataclass
class LinearClassifier:
    """Logits ``x @ weights + bias``: ``weights`` (D, K), ``bias`` (K,)."""

    weights: np.ndarray
    bias: np.ndarray
    l2: float = 0.0
    iterations: int = 0

    def logits(self, x: np.ndarray) -> np.ndarray:
        return _flat(x) @ self.weights.astype(np.float32) + self.bias.astype(np.float32)

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.logits(x).argmax(axis=1)

    def accuracy(self, x: np.ndarray, y: np.ndarray) -> float:
        return float((self.predict(x) == np.asarray(y)).mean())


def loss_and_gradient(weights: np.ndarray, bias: np.ndarray, x: np.ndarray, y: np.ndarray,
                      l2: float) -> tuple[float, np.ndarray, np.ndarray]:
    """Mean softmax cross-entropy plus ``l2 / 2 * ||weights||^2``, and its gradients (weights, bias).

    The gradient of the mean cross-entropy in the logits is ``(softmax - one_hot) / N``.
    """
    x = _flat(x)
    y = np.asarray(y, dtype=np.int64)
    n = len(x)
    logits = (x @ weights.astype(np.float32)).astype(np.float64) + bias
    probabilities = _softmax(logits)
    picked = probabilities[np.arange(n), y]
    loss = -np.mean(np.log(np.maximum(picked, 1e-300))) + 0.5 * l2 * float(np.sum(weights * weights))
    delta = probabilities
    delta[np.arange(n), y] -= 1.0
    delta /= n
    grad_w = (x.T @ delta.astype(np.float32)).astype(np.float64) + l2 * weights
    grad_b = delta.sum(axis=0)
    return float(loss), grad_w, grad_b


def lbfgs(function: Callable[[np.ndarray], tuple[float, np.ndarray]], start: np.ndarray, max_iter: int = 100,
          memory: int = 10, tolerance: float = 1e-6) -> tuple[np.ndarray, int]:
    """Minimise a smooth function by L-BFGS (two-loop recursion, backtracking Armijo line search).

    Returns the point reached and the number of iterations; stops when the gradient's largest entry
    falls below ``tolerance``.
    """
    point = np.asarray(start, dtype=np.float64).copy()
    value, grad = function(point)
    steps: list[tuple[np.ndarray, np.ndarray, float]] = []
    iteration = 0
    for iteration in range(1, max_iter + 1):
        if np.abs(grad).max() < tolerance:
            return point, iteration - 1
        direction = -grad
        alphas = []
        for s, y, rho in reversed(steps):
            alpha = rho * float(s @ direction)
            alphas.append(alpha)
            direction = direction - alpha * y
        if steps:
            s, y, _ = steps[-1]
            direction = direction * (float(s @ y) / float(y @ y))
        for (s, y, rho), alpha in zip(steps, reversed(alphas)):
            beta = rho * float(y @ direction)
            direction = direction + (alpha - beta) * s
        slope = float(grad @ direction)
        if slope >= 0:  # not a descent direction (numerical trouble): restart from the gradient
            steps.clear()
            direction, slope = -grad, -float(grad @ grad)
        step = 1.0 if steps else min(1.0, 1.0 / max(np.abs(grad).sum(), 1e-12))
        for _ in range(30):
            candidate = point + step * direction
            new_value, new_grad = function(candidate)
            if new_value <= value + 1e-4 * step * slope:
                break
            step *= 0.5
        else:
            return point, iteration
        s, y = candidate - point, new_grad - grad
        if float(s @ y) > 1e-12:
            steps.append((s, y, 1.0 / float(s @ y)))
            steps = steps[-memory:]
        point, value, grad = candidate, new_value, new_grad
    return point, iteration


def fit_logistic_regression(x: np.ndarray, y: np.ndarray, num_classes: int, l2: float = 1e-4,
                            max_iter: int = 100, start: LinearClassifier | None = None) -> LinearClassifier:
    """Multinomial logistic regression on ``x`` (flattened), fitted full-batch by L-BFGS from zero weights
    (or from ``start``). ``l2`` penalises the weights, not the biases."""
    x = _flat(x)
    y = np.asarray(y, dtype=np.int64)
    d = x.shape[1]

    def function(theta: np.ndarray) -> tuple[float, np.ndarray]:
        weights, bias = theta[: d * num_classes].reshape(d, num_classes), theta[d * num_classes :]
        loss, grad_w, grad_b = loss_and_gradient(weights, bias, x, y, l2)
        return loss, np.concatenate([grad_w.ravel(), grad_b])

    initial = (np.zeros(d * num_classes + num_classes) if start is None
               else np.concatenate([start.weights.ravel(), start.bias]).astype(np.float64))
    theta, iterations = lbfgs(function, initial, max_iter=max_iter)
    return LinearClassifier(theta[: d * num_classes].reshape(d, num_classes), theta[d * num_classes :], l2,
                            iterations)


def choose_l2(train_x: np.ndarray, train_y: np.ndarray, val_x: np.ndarray, val_y: np.ndarray, num_classes: int,
              l2s: Sequence[float] = (1e-2, 1e-3, 1e-4), max_iter: int = 100, subset: int | None = None
              ) -> tuple[LinearClassifier, dict[float, float]]:
    """The penalty of ``l2s`` with the best validation accuracy (ties: the larger penalty), and the model.

    Each penalty is fitted on the first ``subset`` training items (all if ``None``), to keep the choice
    cheap; the chosen one is then refitted on all of them, starting from its subset fit. Returns that
    model and the validation accuracy of every penalty.
    """
    chosen_x, chosen_y = (train_x, train_y) if subset is None else (train_x[:subset], train_y[:subset])
    scores, models = {}, {}
    for l2 in sorted(l2s, reverse=True):
        models[l2] = fit_logistic_regression(chosen_x, chosen_y, num_classes, l2, max_iter)
        scores[l2] = models[l2].accuracy(val_x, val_y)
    best = max(scores, key=lambda l2: (scores[l2], l2))
    model = models[best]
    if len(chosen_x) < len(train_x):
        model = fit_logistic_regression(train_x, train_y, num_classes, best, max_iter, start=model)
    return model, scores


# ---------------------------------------------------------------------------------------------------- MLP
def mlp_hidden_for(parameters: int, inputs: int, classes: int) -> int:
    """The hidden width H whose MLP inputs -> H -> classes has about ``parameters`` weights and biases:
    H (inputs + 1) + classes (H + 1) = parameters."""
    return max(1, round((parameters - classes) / (inputs + 1 + classes)))


@dataclass
class MLPClassifier:
    """``relu(x @ w1 + b1) @ w2 + b2``."""

    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    b2: np.ndarray

    @property
    def parameters(self) -> int:
        return sum(a.size for a in (self.w1, self.b1, self.w2, self.b2))

    def logits(self, x: np.ndarray) -> np.ndarray:
        return np.maximum(_flat(x) @ self.w1 + self.b1, 0) @ self.w2 + self.b2

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.logits(x).argmax(axis=1)

    def accuracy(self, x: np.ndarray, y: np.ndarray) -> float:
        return float((self.predict(x) == np.asarray(y)).mean())


def mlp_gradients(model: MLPClassifier, x: np.ndarray, y: np.ndarray) -> tuple[float, list[np.ndarray]]:
    """Mean softmax cross-entropy of ``model`` on a batch, and its gradients (w1, b1, w2, b2)."""
    x = _flat(x)
    n = len(x)
    hidden = np.maximum(x @ model.w1 + model.b1, 0)
    probabilities = _softmax((hidden @ model.w2 + model.b2).astype(np.float64))
    loss = -float(np.mean(np.log(np.maximum(probabilities[np.arange(n), y], 1e-300))))
    delta = probabilities
    delta[np.arange(n), y] -= 1.0
    delta = (delta / n).astype(np.float32)
    back = (delta @ model.w2.T) * (hidden > 0)
    return loss, [x.T @ back, back.sum(0), hidden.T @ delta, delta.sum(0)]


def fit_mlp(x: np.ndarray, y: np.ndarray, num_classes: int, hidden: int, steps: int = 2_000,
            batch_size: int = 128, learning_rate: float = 1e-3, seed: int = 0) -> MLPClassifier:
    """A one-hidden-layer ReLU network trained by Adam on mini-batches (He-uniform weights, zero biases)."""
    x = _flat(x)
    y = np.asarray(y, dtype=np.int64)
    rng = np.random.default_rng(seed)
    d = x.shape[1]
    limit1, limit2 = np.sqrt(6 / d), np.sqrt(6 / hidden)
    model = MLPClassifier(rng.uniform(-limit1, limit1, (d, hidden)).astype(np.float32),
                          np.zeros(hidden, np.float32),
                          rng.uniform(-limit2, limit2, (hidden, num_classes)).astype(np.float32),
                          np.zeros(num_classes, np.float32))
    params = [model.w1, model.b1, model.w2, model.b2]
    first = [np.zeros_like(p) for p in params]
    second = [np.zeros_like(p) for p in params]
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    order = np.empty(0, dtype=np.int64)
    for step in range(1, steps + 1):
        if len(order) < batch_size:  # a new shuffled pass over the data
            order = np.concatenate([order, rng.permutation(len(x))])
        index, order = order[:batch_size], order[batch_size:]
        _, grads = mlp_gradients(model, x[index], y[index])
        for p, g, m, v in zip(params, grads, first, second):
            m *= beta1
            m += (1 - beta1) * g
            v *= beta2
            v += (1 - beta2) * g * g
            p -= learning_rate * (m / (1 - beta1**step)) / (np.sqrt(v / (1 - beta2**step)) + eps)
    return model
