"""Embeddings chapter (CBOW, skip-gram with NCE and with negative sampling, the character-feature tagger)
against NumPy, each twin alone.

The NCE loss is written out by hand in the PyTorch twin and is ``tf.nn.nce_loss`` in TensorFlow; both are
held here to the formula of the module docstring, so a mistake in either (a flipped noise label, the
log Q correction dropped) fails. The negative-sampling loss is written out in both twins and held to
-log sigma(u.v) - sum log sigma(-u.v_neg), computed here with 1 / (1 + exp(-x)).
See ``tools/mutants/embeddings.toml`` and ``tools/mutants/embeddings_pages.toml``.
"""


import numpy as np
import pytest
from each_twin import FRAMEWORKS, twin_module
from each_twin import as_numpy as _numpy
from each_twin import tensor as _tensor


def _module(framework: str, family: str):
    return twin_module(framework, family)




def _table(framework: str, embedding) -> np.ndarray:
    return _numpy(embedding.weight if framework == "torch" else embedding.embeddings).astype(np.float64)


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, x)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_nce_loss_is_the_binary_logistic_loss_with_the_log_q_correction(framework):
    model = _module(framework, "nce").SkipGramNCE(12, 3)
    rng = np.random.default_rng(0)
    bias = rng.normal(size=12).astype(np.float32)  # non-zero, so that the bias term is checked too
    if framework == "torch":
        import torch

        with torch.no_grad():
            model.nce.bias.copy_(torch.as_tensor(bias))
    else:
        model.nce.bias.assign(bias)
    center, context, sampled = np.array([0, 3, 7]), np.array([1, 2, 11]), np.array([4, 5, 9, 1])
    true_expected = np.array([0.3, 0.5, 0.05], np.float32)
    sampled_expected = np.array([0.2, 0.8, 0.1, 0.4], np.float32)
    loss = float(_numpy(model.nce_loss(*(_tensor(framework, a) for a in (center, context, sampled, true_expected,
                                                                          sampled_expected)))))

    e = _table(framework, model.embeddings)[center]
    u, b = _numpy(model.nce.weight).astype(np.float64), bias.astype(np.float64)
    true_logits = (e * u[context]).sum(1) + b[context] - np.log(true_expected)
    sampled_logits = e @ u[sampled].T + b[sampled] - np.log(sampled_expected)
    # label 1 for the true word: -log sigmoid(s); label 0 for each noise word: -log(1 - sigmoid(s))
    expected = np.mean(_softplus(-true_logits) + _softplus(sampled_logits).sum(1))
    assert loss == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_sgns_loss_is_word2vecs_negative_sampling_objective(framework):
    """Two pairs, three noise words each, by hand: -log s(e.u_c) - sum_n log s(-e.u_n), s the logistic
    function; the output bias (set non-zero here) is not part of it."""
    model = _module(framework, "nce").SkipGramNCE(12, 3)
    bias = np.random.default_rng(1).normal(size=12).astype(np.float32)
    if framework == "torch":
        import torch

        with torch.no_grad():
            model.nce.bias.copy_(torch.as_tensor(bias))
    else:
        model.nce.bias.assign(bias)
    center, context, negatives = np.array([2, 9]), np.array([4, 0]), np.array([[1, 7, 7], [3, 11, 5]])
    loss = float(_numpy(model.sgns_loss(*(_tensor(framework, a) for a in (center, context, negatives)))))

    e = _table(framework, model.embeddings)
    u = _numpy(model.nce.weight).astype(np.float64)

    def sigma(x):
        return 1.0 / (1.0 + np.exp(-x))

    per_pair = [-np.log(sigma(e[w] @ u[c])) - sum(np.log(sigma(-(e[w] @ u[n]))) for n in noise)
                for w, c, noise in zip(center, context, negatives)]
    assert loss == pytest.approx(np.mean(per_pair), rel=1e-5)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_cbow_averages_its_context_rows(framework):
    model = _module(framework, "word_embeddings").CBOW(9, 4)
    context = np.array([[1, 5], [2, 2], [8, 0]])
    got = model.activations(_tensor(framework, context))
    mean = _table(framework, model.embeddings)[context].mean(1)
    np.testing.assert_allclose(_numpy(got["mean"]), mean, rtol=1e-6, atol=1e-7)
    if framework == "torch":
        weight, bias = _numpy(model.linear.weight).T, _numpy(model.linear.bias)
    else:
        weight, bias = (_numpy(w) for w in model.linear.weights)
    np.testing.assert_allclose(_numpy(got["logits"]), mean @ weight + bias, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_char_tagger_joins_each_words_embedding_with_its_last_letters_state(framework):
    model = _module(framework, "tagger").CharLSTMTagger(10, 4, alphabet_size=7, embedding_dim=3, hidden_dim=5,
                                                        char_embedding_dim=2, char_hidden_dim=3)
    words = np.array([[4, 2, 7]])
    chars = np.array([[[1, 2, 3, 0, 0], [4, 0, 0, 0, 0], [5, 6, 1, 2, 0]]])  # 3, 1 and 4 letters, id 0 pads
    got = {k: _numpy(v) for k, v in model.activations(_tensor(framework, words), _tensor(framework, chars)).items()}
    states = got["char_lstm"].reshape(1, 3, 5, -1)
    last = np.array([[2, 0, 3]])
    np.testing.assert_allclose(got["char_features"], states[0, np.arange(3), last[0]][None], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(got["joined"], np.concatenate([got["embedded"], got["char_features"]], -1),
                               rtol=1e-6, atol=1e-7)
    # other letters, the same words: other tag scores
    other = _numpy(model(_tensor(framework, words), _tensor(framework, np.where(chars > 0, 7 - chars, 0))))
    assert np.abs(other - got["tag_scores"]).max() > 1e-5
