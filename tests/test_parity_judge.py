"""Parity of the judge's twins (``JudgeNet``, family ``judge``): outputs, loss and gradients from
one set of weights (:func:`torchflow.convert.copy_weights`), both directions of the conversion,
and a trajectory with the judge's own optimiser. Tolerances: ``tests/parity.py``.
"""

import pytest
from parity import (
    assert_classifier_gradients_agree,
    assert_close_to_scale,
    assert_trajectory_within,
    assert_twins_agree,
    classifier_trajectory,
    classifier_twins,
    nhwc,
    real_images,
    twin_states,
)

import torch  # isort: skip

from torchflow.convert import copy_weights_to_torch
from torchflow.families import family

JUDGE = family("judge")


def test_judge_twins_agree_and_convert_both_ways():
    torch_model, tf_model = classifier_twins(JUDGE)
    images, labels = real_images(8)
    with torch.no_grad():
        expected = torch_model.eval()(torch.as_tensor(images))
    assert_close_to_scale("logits", tf_model(nhwc(images)), expected)
    assert_classifier_gradients_agree(torch_model, tf_model, JUDGE, images, labels, training=False)
    other = JUDGE.build("torch")  # Keras -> PyTorch gives back the same weights
    copy_weights_to_torch(tf_model, other, JUDGE)
    assert_twins_agree(*twin_states(other, tf_model, JUDGE)[:1], twin_states(torch_model, tf_model, JUDGE)[0], 0.0)


def _trajectory(epsilon=1e-8, steps=50, loss_scale=1.0, dtype="float32"):
    torch_model, tf_model = classifier_twins(JUDGE, dtype=dtype)
    images, labels = real_images(512)
    return classifier_trajectory(JUDGE, torch_model, tf_model, images, labels, steps=steps, batch_size=32,
                                 kind="adam", learning_rate=1e-3, epsilon=epsilon, loss_scale=loss_scale)


def test_trajectory_twins_train_alike():
    """50 Adam steps (the judge's lr 1e-3, epsilon 1e-8), batch 32 of real images.

    Measured (x86-64, AVX-512): losses 3.4e-2 relative, weights 0.49 of their scale (3.8e-2 and
    0.72 with Keras' default epsilon). Asserted: about three times. That drift is float32 noise:
    in float64 the same steps agree to 1e-13 (the test below).
    """
    loss_drift, weight_drift, _, _ = _trajectory()
    assert loss_drift < 0.1, loss_drift
    assert weight_drift < 1.5, weight_drift


def test_trajectory_float64_twins_train_identically():
    """The same 50 Adam steps with both twins in float64 (and PyTorch's Adam computing Keras' update,
    ``parity.KerasAdam``). Measured (x86-64, AVX-512): losses within 9.3e-16 relative, weights within
    3.4e-14 of their scale. Asserted: about ten times, 1e-14 and 3e-13.
    """
    assert_trajectory_within("float64 judge", _trajectory(dtype="float64"),
                             loss=1e-14, weights=3e-13)


@pytest.mark.parametrize("epsilon, agrees", [(1e-8, True), (None, False)])
def test_trajectory_one_step_catches_adam_epsilon(epsilon, agrees):
    """One Adam step with the loss times 1e-2 (near-zero gradients): Keras' default epsilon shows.

    Measured: the update differs by 0.26 (root mean square, relative) matched, 0.56 with Keras' default.
    """
    _, _, update_drift, _ = _trajectory(epsilon=epsilon, steps=1, loss_scale=1e-2)
    assert (update_drift < 0.4) == agrees, update_drift
