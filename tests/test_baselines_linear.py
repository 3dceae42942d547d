"""torchflow.baselines.linear against independent computations: hand formulas, loops, finite differences."""

import math

import numpy as np
import pytest

from torchflow.baselines.linear import (
    MLPClassifier,
    choose_l2,
    fit_logistic_regression,
    fit_mlp,
    lbfgs,
    loss_and_gradient,
    mlp_gradients,
    mlp_hidden_for,
)


def loop_loss(weights, bias, x, y, l2):
    """Mean cross-entropy + l2/2 ||W||^2, written as loops over items and classes (float64)."""
    total = 0.0
    for row, label in zip(x, y):
        scores = [sum(row[j] * weights[j][k] for j in range(len(row))) + bias[k] for k in range(len(bias))]
        top = max(scores)
        log_norm = top + math.log(sum(math.exp(s - top) for s in scores))
        total += log_norm - scores[label]
    penalty = 0.5 * l2 * sum(w * w for column in weights for w in column)
    return total / len(x) + penalty


def numeric_gradient(f, theta, h=1e-6):
    grad = np.zeros_like(theta)
    for i in range(len(theta)):
        up, down = theta.copy(), theta.copy()
        up[i] += h
        down[i] -= h
        grad[i] = (f(up) - f(down)) / (2 * h)
    return grad


def toy(n=12, d=3, k=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)).astype(np.float32), rng.integers(0, k, n)


def test_gradient_at_zero_weights_is_the_hand_formula():
    # at W = 0, b = 0 every class has probability 1/K: dL/dW = X^T (1/K - Y) / N, dL/db = mean(1/K - Y)
    x, y = toy()
    k = 4
    one_hot = np.eye(k)[y]
    loss, grad_w, grad_b = loss_and_gradient(np.zeros((3, k)), np.zeros(k), x, y, l2=0.3)
    np.testing.assert_allclose(loss, math.log(k), rtol=1e-6)
    np.testing.assert_allclose(grad_w, x.T.astype(np.float64) @ (1 / k - one_hot) / len(x), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(grad_b, (1 / k - one_hot).mean(0), rtol=1e-6, atol=1e-9)


def test_loss_and_gradient_match_a_loop_and_finite_differences():
    x, y = toy(n=7, d=3, k=3, seed=1)
    rng = np.random.default_rng(2)
    weights, bias, l2 = rng.normal(size=(3, 3)), rng.normal(size=3), 0.2
    loss, grad_w, grad_b = loss_and_gradient(weights, bias, x, y, l2)
    xd = x.astype(np.float64)
    np.testing.assert_allclose(loss, loop_loss(weights, bias, xd, y, l2), rtol=1e-5)

    def f(theta):
        return loop_loss(theta[:9].reshape(3, 3), theta[9:], xd, y, l2)

    numeric = numeric_gradient(f, np.concatenate([weights.ravel(), bias]))
    np.testing.assert_allclose(np.concatenate([grad_w.ravel(), grad_b]), numeric, rtol=1e-4, atol=1e-5)


def test_the_fit_is_a_stationary_point_of_the_loop_loss():
    # the minimiser of the penalised loss: the loop-written loss's finite-difference gradient vanishes there
    x, y = toy(n=30, d=2, k=3, seed=3)
    l2 = 0.1
    model = fit_logistic_regression(x, y, 3, l2=l2, max_iter=500)
    xd = x.astype(np.float64)

    def f(theta):
        return loop_loss(theta[:6].reshape(2, 3), theta[6:], xd, y, l2)

    theta = np.concatenate([model.weights.ravel(), model.bias])
    assert np.abs(numeric_gradient(f, theta)).max() < 1e-4
    # and nothing nearby is lower
    rng = np.random.default_rng(0)
    assert all(f(theta) <= f(theta + 1e-2 * rng.normal(size=theta.shape)) for _ in range(20))


def test_separable_data_is_classified_perfectly_even_far_from_the_origin():
    # three well-separated clusters around (10, 10): the fit reaches 100 %
    rng = np.random.default_rng(4)
    centres = np.array([[10.0, 10.0], [14.0, 10.0], [10.0, 14.0]])
    y = np.repeat(np.arange(3), 40)
    x = (centres[y] + rng.normal(scale=0.3, size=(120, 2))).astype(np.float32)
    model = fit_logistic_regression(x, y, 3, l2=1e-4, max_iter=300)
    assert model.accuracy(x, y) == 1.0


def test_a_constant_feature_leaves_only_the_bias():
    # x is 0 for every item: only the biases can tell the classes' frequencies; the fit is their log-odds,
    # and every item is predicted as the most frequent class
    y = np.array([2] * 6 + [1] * 3 + [0] * 1)
    x = np.zeros((10, 1), np.float32)
    model = fit_logistic_regression(x, y, 3, l2=0.0, max_iter=200)
    probabilities = np.exp(model.bias) / np.exp(model.bias).sum()
    np.testing.assert_allclose(probabilities, [0.1, 0.3, 0.6], atol=1e-4)
    assert (model.predict(x) == 2).all()


def test_lbfgs_minimises_a_quadratic():
    a = np.array([[3.0, 1.0], [1.0, 2.0]])
    b = np.array([1.0, -1.0])
    point, _ = lbfgs(lambda p: (0.5 * p @ a @ p - b @ p, a @ p - b), np.zeros(2), max_iter=50, tolerance=1e-10)
    np.testing.assert_allclose(point, np.linalg.solve(a, b), atol=1e-7)


def test_choose_l2_keeps_the_best_validation_accuracy():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(200, 5)).astype(np.float32)
    y = (x[:, 0] + 0.5 * rng.normal(size=200) > 0).astype(np.int64)
    model, scores = choose_l2(x[:150], y[:150], x[150:], y[150:], 2, l2s=(10.0, 1e-3), max_iter=100, subset=100)
    best = max(scores, key=lambda l2: (scores[l2], l2))
    assert model.l2 == best and set(scores) == {10.0, 1e-3}
    assert scores[1e-3] > scores[10.0]  # a huge penalty flattens the weights to nothing useful


def test_mlp_hidden_width_gives_the_parameter_count():
    hidden = mlp_hidden_for(24_458, 784, 10)
    assert hidden == 31
    assert abs(hidden * 785 + 10 * (hidden + 1) - 24_458) < 795 / 2


def test_mlp_gradients_match_finite_differences():
    rng = np.random.default_rng(6)
    model = MLPClassifier(*(rng.normal(size=s).astype(np.float32) for s in ((3, 4), (4,), (4, 3), (3,))))
    x, y = toy(n=5, d=3, k=3, seed=7)
    _, grads = mlp_gradients(model, x, y)
    shapes = [p.shape for p in (model.w1, model.b1, model.w2, model.b2)]

    def f(theta):
        parts, start = [], 0
        for shape in shapes:
            size = int(np.prod(shape))
            parts.append(theta[start : start + size].reshape(shape))
            start += size
        w1, b1, w2, b2 = parts
        logits = np.maximum(x @ w1 + b1, 0) @ w2 + b2
        top = logits.max(1, keepdims=True)
        log_norm = (top + np.log(np.exp(logits - top).sum(1, keepdims=True)))[:, 0]
        return float(np.mean(log_norm - logits[np.arange(len(y)), y]))

    theta = np.concatenate([p.ravel() for p in (model.w1, model.b1, model.w2, model.b2)]).astype(np.float64)
    numeric = numeric_gradient(f, theta, h=1e-4)
    np.testing.assert_allclose(np.concatenate([g.ravel() for g in grads]), numeric, rtol=1e-2, atol=1e-3)


def test_mlp_learns_xor_which_no_linear_model_can():
    rng = np.random.default_rng(8)
    x = rng.uniform(-1, 1, size=(400, 2)).astype(np.float32)
    y = ((x[:, 0] > 0) ^ (x[:, 1] > 0)).astype(np.int64)
    mlp = fit_mlp(x, y, 2, hidden=16, steps=3_000, batch_size=64, learning_rate=1e-2, seed=0)
    linear = fit_logistic_regression(x, y, 2, l2=1e-4)
    assert mlp.accuracy(x, y) > 0.95
    assert linear.accuracy(x, y) < 0.75


@pytest.mark.parametrize("bad", [0])
def test_mlp_hidden_width_is_at_least_one(bad):
    assert mlp_hidden_for(bad, 784, 10) == 1
