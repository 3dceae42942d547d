"""Sequence losses and decoders (RNN chapter, seq2seq) against hand computations, in each twin on its own.

A mistake made in both twins -- padding counted in a loss, a mean where a sum is meant, teacher
forcing inverted or drawn per sentence, attention normalised over the batch, an additive score
without its tanh, a padded step read as the last one -- is
invisible to the parity tests; these catch it (see ``tools/mutants/sequence.toml``).
"""


import numpy as np
import pytest
from each_twin import FRAMEWORKS, twin_module
from each_twin import as_numpy as _numpy
from each_twin import tensor as _tensor


def _module(framework: str, family: str):
    return twin_module(framework, family)




def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))


# ------------------------------------------------------------------ losses
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_rnn_sequence_loss_sums_real_steps_and_averages_sequences(framework):
    """A 2 x 3 batch whose second sequence has one padded step (-1)."""
    logits = np.random.default_rng(0).normal(size=(2, 3, 4)).astype(np.float32)
    targets = np.array([[1, 3, 0], [2, 2, -1]])
    nll = -_log_softmax(logits.astype(np.float64))
    by_hand = ((nll[0, 0, 1] + nll[0, 1, 3] + nll[0, 2, 0]) + (nll[1, 0, 2] + nll[1, 1, 2])) / 2
    got = float(_numpy(_module(framework, "rnn").sequence_loss(_tensor(framework, logits),
                                                               _tensor(framework, targets))))
    assert got == pytest.approx(by_hand, rel=1e-5)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_seq2seq_masked_nll_is_the_mean_over_real_tokens(framework):
    """A 2 x 3 batch with one padded step (PAD = 0): five real tokens."""
    s2s = _module(framework, "seq2seq")
    log_probs = _log_softmax(np.random.default_rng(1).normal(size=(2, 3, 5))).astype(np.float32)
    targets = np.array([[3, 4, 2], [4, 2, s2s.PAD]])
    by_hand = -(log_probs[0, 0, 3] + log_probs[0, 1, 4] + log_probs[0, 2, 2] + log_probs[1, 0, 4]
                + log_probs[1, 1, 2]) / 5
    got = float(_numpy(s2s.masked_nll(_tensor(framework, log_probs), _tensor(framework, targets))))
    assert got == pytest.approx(float(by_hand), rel=1e-5)


# ------------------------------------------------------------------ seq2seq decoding
class _Recorder:
    """A stand-in decoder: records the token it is fed, answers fixed log-probabilities whose best
    guess (token 4) is never the reference, so that a fed guess and a fed reference differ."""

    def __init__(self, framework: str, vocab: int = 6) -> None:
        self.framework, self.fed = framework, []
        logits = np.zeros(vocab, np.float32)
        logits[4] = 3.0
        self.log_probs = _log_softmax(logits).astype(np.float32)

    def __call__(self, token, hidden, encoder_outputs, mask):
        self.fed.append(_numpy(token).tolist())
        batch = int(_numpy(token).shape[0])
        return _tensor(self.framework, np.tile(self.log_probs, (batch, 1))), hidden, None


def _encoder(framework: str):
    def encode(source, lengths):
        batch = int(_numpy(source).shape[0])
        return _tensor(framework, np.zeros((batch, 3, 2), np.float32)), _tensor(framework,
                                                                                np.zeros((batch, 2), np.float32))
    return encode


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("forcing", [(True, True, True), (False, False, False), (True, False, True),
                                     (False, True, False)], ids=["all", "none", "mixed", "mixed-inverted"])
def test_decode_loss_feeds_sos_then_the_reference_or_the_guess(framework, forcing):
    """Step t + 1 is fed the reference token where ``teacher_forcing[t]`` is True, the decoder's guess
    where it is False: one decision per decoder step (a mixed pattern catches a per-sentence draw)."""
    s2s = _module(framework, "seq2seq")
    source = np.array([[3, 5, 2], [5, 2, 0]])
    lengths = np.array([3, 2])
    target = np.array([[3, 5, 2], [5, 3, 2]])
    decoder = _Recorder(framework)
    loss = s2s.decode_loss(_encoder(framework), decoder, _tensor(framework, source), _tensor(framework, lengths),
                           _tensor(framework, target), _tensor(framework, np.array(forcing)))
    expected = [[s2s.SOS, s2s.SOS]] + [target[:, t].tolist() if forcing[t] else [4, 4] for t in range(2)]
    assert decoder.fed == expected
    picked = [decoder.log_probs[t] for row in target for t in row]
    assert float(_numpy(loss)) == pytest.approx(-np.mean(picked), rel=1e-5)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_greedy_decoding_feeds_each_guess_back(framework):
    s2s = _module(framework, "seq2seq")
    decoder = _Recorder(framework)
    tokens, attention = s2s.greedy_decode(_encoder(framework), decoder, _tensor(framework, np.array([[3, 2]])),
                                          _tensor(framework, np.array([2])), max_length=3)
    assert decoder.fed == [[s2s.SOS], [4], [4]]
    assert _numpy(tokens).tolist() == [[4, 4, 4]] and attention is None


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_luong_attention_is_a_softmax_over_the_real_source_positions(framework):
    """``dot`` scores by NumPy from the decoder's new state; weights per sentence sum to 1, zero on padding."""
    s2s = _module(framework, "seq2seq")
    decoder = s2s.LuongAttnDecoderRNN(7, 4, method="dot")
    rng = np.random.default_rng(2)
    outputs = rng.normal(size=(3, 5, 4)).astype(np.float32)
    lengths = np.array([5, 3, 1])
    mask = np.arange(5)[None, :] < lengths[:, None]
    _, hidden, weights = decoder(_tensor(framework, np.array([3, 4, 5])),
                                 _tensor(framework, rng.normal(size=(3, 4)).astype(np.float32)),
                                 _tensor(framework, outputs), _tensor(framework, mask))
    scores = np.einsum("bh,bsh->bs", _numpy(hidden).astype(np.float64), outputs)
    scores = np.where(mask, scores, -np.inf)
    expected = np.exp(scores - scores.max(1, keepdims=True))
    expected /= expected.sum(1, keepdims=True)
    np.testing.assert_allclose(_numpy(weights), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_bahdanau_attention_is_additive_from_the_previous_state(framework):
    """Scores v^T tanh(W_a h_{t-1} + U_a hbar_s) by NumPy from the layers' own weights and the state the
    decoder was given (not the new one); softmax over the real positions; the GRU is fed [e(y); c_t]."""
    s2s = _module(framework, "seq2seq")
    decoder = s2s.BahdanauAttnDecoderRNN(7, 4)
    rng = np.random.default_rng(5)
    outputs = rng.normal(size=(3, 5, 4)).astype(np.float32)
    previous = rng.normal(size=(3, 4)).astype(np.float32)
    lengths = np.array([5, 3, 1])
    mask = np.arange(5)[None, :] < lengths[:, None]
    _, _, weights = decoder(_tensor(framework, np.array([3, 4, 5])), _tensor(framework, previous),
                            _tensor(framework, outputs), _tensor(framework, mask))

    def dense(name):  # (kernel (in, out), bias) in NumPy whichever the framework
        layer = getattr(decoder, name)
        if framework == "torch":
            bias = None if layer.bias is None else layer.bias.detach().numpy()
            return layer.weight.detach().numpy().T, bias
        values = layer.get_weights()
        return values[0], values[1] if len(values) > 1 else None

    (wa, ba), (ua, bu), (va, _) = dense("Wa"), dense("Ua"), dense("Va")
    energy = np.tanh((previous @ wa + ba)[:, None] + outputs @ ua + bu)  # (B, S, H)
    scores = np.where(mask, (energy @ va)[..., 0], -np.inf)
    expected = np.exp(scores - scores.max(1, keepdims=True))
    expected /= expected.sum(1, keepdims=True)
    np.testing.assert_allclose(_numpy(weights), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_encoder_state_is_taken_at_each_sentences_last_real_token(framework):
    """The hidden state of a padded sentence is its state alone, unpadded."""
    s2s = _module(framework, "seq2seq")
    encoder = s2s.EncoderRNN(8, 4)
    batch = np.array([[3, 4, 5, 2], [6, 2, s2s.PAD, s2s.PAD]])
    _, hidden = encoder(_tensor(framework, batch), _tensor(framework, np.array([4, 2])))
    _, alone = encoder(_tensor(framework, batch[1:, :2]), _tensor(framework, np.array([2])))
    np.testing.assert_allclose(_numpy(hidden)[1], _numpy(alone)[0], rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------ RNN chapter models
def _set_all_biases(model, framework: str, rng: np.random.Generator) -> None:
    """Non-zero biases everywhere, so that zero (padded) inputs still move a recurrent state."""
    if framework == "torch":
        import torch

        with torch.no_grad():
            for name, weight in model.named_parameters():
                if "bias" in name and weight.requires_grad:
                    weight.copy_(torch.as_tensor(rng.normal(size=weight.shape).astype(np.float32)))
    else:
        for variable in model.trainable_variables:
            if "bias" in variable.name:
                variable.assign(rng.normal(size=variable.shape).astype(np.float32))


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_surname_classifier_reads_each_name_up_to_its_last_letter(framework):
    from torchflow.prep.characters import one_hot, pad

    model = _module(framework, "rnn").SurnameClassifier(num_letters=6, num_classes=3, hidden_dim=5)
    _set_all_biases(model, framework, np.random.default_rng(3))
    names = [np.array([1, 2, 3, 4, 5]), np.array([5, 0])]
    padded, lengths = pad(names)
    logits = _numpy(model(_tensor(framework, one_hot(padded, 6)), _tensor(framework, lengths)))
    for row, name in enumerate(names):
        alone = _numpy(model(_tensor(framework, one_hot(name[None], 6))))
        np.testing.assert_allclose(logits[row], alone[0], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_surname_generator_sees_the_language_at_every_step(framework):
    """Its output is its own recurrent layer run on [one-hot letter ; one-hot language], built by NumPy."""
    from torchflow.prep.characters import one_hot

    model = _module(framework, "rnn").SurnameGenerator(num_letters=6, num_languages=3, hidden_dim=5)
    letters = one_hot(np.array([[1, 2, 3], [4, 0, 5]]), 6)
    languages = np.array([2, 0])
    joined = np.concatenate([letters, np.repeat(np.eye(3, dtype=np.float32)[languages][:, None], 3, axis=1)], 2)
    logits, _ = model(_tensor(framework, letters), _tensor(framework, languages))
    expected = model.fc(model.rnn(_tensor(framework, joined))[0])  # both: (outputs, state...)
    np.testing.assert_allclose(_numpy(logits), _numpy(expected), rtol=1e-5, atol=1e-6)
    other, _ = model(_tensor(framework, letters), _tensor(framework, np.array([1, 1])))
    assert np.abs(_numpy(other) - _numpy(logits)).max() > 1e-4


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_row_lstm_reads_rows_as_time_steps(framework):
    """Changing only the last row changes only the last step's state: step t has seen rows 0..t."""
    model = _module(framework, "rnn").RowLSTM(hidden_dim=6)
    images = np.random.default_rng(4).random((2, 28, 28)).astype(np.float32)
    changed = images.copy()
    changed[:, -1] = 1.0 - changed[:, -1]
    before, after = (_numpy(model.hidden_states(_tensor(framework, x))) for x in (images, changed))
    np.testing.assert_allclose(after[:, :-1], before[:, :-1], rtol=1e-6, atol=1e-7)
    assert np.abs(after[:, -1] - before[:, -1]).max() > 1e-4
    # the classifier reads the state after the last row, so it sees the change
    logits = [_numpy(model(_tensor(framework, x))) for x in (images, changed)]
    assert np.abs(logits[1] - logits[0]).max() > 1e-5


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_char_rnn_carries_its_state_across_batches(framework):
    """Six characters in one call = three, then three more from the returned state (truncated BPTT's premise)."""
    model = _module(framework, "rnn").CharRNN(vocab_size=9, embedding_dim=4, hidden_dim=5)
    chars = np.array([[1, 4, 2, 8, 0, 3], [5, 5, 6, 7, 1, 2]])
    whole, _ = model(_tensor(framework, chars))
    first, state = model(_tensor(framework, chars[:, :3]))
    second, _ = model(_tensor(framework, chars[:, 3:]), state)
    np.testing.assert_allclose(np.concatenate([_numpy(first), _numpy(second)], 1), _numpy(whole), rtol=1e-5,
                               atol=1e-6)
