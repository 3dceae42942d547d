"""Scores computed from predictions, framework-free: confusion matrices and per-class accuracy, language-model
and translation scores, their standard errors, and the generative metrics computed in judge features
(Fréchet distance, kernel inception distance, precision and recall, memorisation, class histogram)."""

from __future__ import annotations

import numpy as np


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray, num_classes: int) -> np.ndarray:
    """Counts (true class, predicted class)."""
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(labels), np.asarray(predictions)), 1)
    return matrix


def per_class_accuracy(matrix: np.ndarray) -> np.ndarray:
    """Accuracy of each true class, from a confusion matrix."""
    return np.diag(matrix) / np.maximum(matrix.sum(1), 1)


def nearest_neighbours(vectors: np.ndarray, k: int, rows: np.ndarray | None = None) -> np.ndarray:
    """The ``k`` rows of ``vectors`` nearest to each row (of ``rows``, default all) by cosine, itself excluded:
    ``(len(rows), k)`` indices, nearest first."""
    vectors = np.asarray(vectors, dtype=np.float64)
    if not 1 <= k < len(vectors):
        raise ValueError(f"k must be between 1 and {len(vectors) - 1}, got {k}")
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    rows = np.arange(len(vectors)) if rows is None else np.asarray(rows)
    similarity = unit[rows] @ unit.T
    similarity[np.arange(len(rows)), rows] = -np.inf
    return np.argsort(-similarity, axis=1, kind="stable")[:, :k]


def ppmi_vectors(ids: np.ndarray, vocab_size: int, window: int = 2) -> np.ndarray:
    """Positive pointwise mutual information of each word with each word within ``window`` of it in the
    stream ``ids``: ``(vocab_size, vocab_size)``, max(0, log p(w, c) / (p(w) p(c))). A word's row
    describes the contexts it occurs in: similar rows, similar use."""
    ids = np.asarray(ids, dtype=np.int64)
    counts = np.zeros((vocab_size, vocab_size))
    for offset in range(1, window + 1):
        np.add.at(counts, (ids[:-offset], ids[offset:]), 1)
        np.add.at(counts, (ids[offset:], ids[:-offset]), 1)
    total = counts.sum()
    expected = counts.sum(1, keepdims=True) * counts.sum(0, keepdims=True) / max(total, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        pmi = np.log(counts / expected)
    return np.where(counts > 0, np.maximum(pmi, 0), 0.0)


def neighbour_agreement(neighbours: np.ndarray, reference: np.ndarray) -> float:
    """Mean share of each row's neighbours that are also among its ``reference`` neighbours
    (both ``(N, k)`` index arrays): 1 when they agree, about k / (N - 1) for random neighbours."""
    neighbours, reference = np.asarray(neighbours), np.asarray(reference)
    if neighbours.shape != reference.shape:
        raise ValueError(f"neighbour lists of different shapes: {neighbours.shape} and {reference.shape}")
    return float(np.mean([len(set(a) & set(b)) / len(a) for a, b in zip(neighbours, reference)]))


def ngram_bits_per_char(train: np.ndarray, test: np.ndarray, vocab_size: int, order: int = 1) -> float:
    """Bits per character of the index sequence ``test`` under an n-gram model counted on ``train``.

    ``order=1``: each character by its frequency (unigram); ``order=2``: by its frequency after the
    previous character (bigram). Counts are add-one smoothed, so a pair never seen in ``train`` has a
    small probability rather than zero.
    """
    train, test = np.asarray(train), np.asarray(test)
    if order == 1:
        counts = np.bincount(train, minlength=vocab_size) + 1.0
        return float(-np.log2(counts[test] / counts.sum()).mean())
    if order == 2:
        counts = np.ones((vocab_size, vocab_size))
        np.add.at(counts, (train[:-1], train[1:]), 1.0)
        return float(-np.log2(counts[test[:-1], test[1:]] / counts[test[:-1]].sum(1)).mean())
    raise ValueError(f"order must be 1 (unigram) or 2 (bigram), got {order}")


def corpus_bleu(hypotheses: list[str], references: list[str]) -> float:
    """Corpus BLEU (0-100) of tokenised sentences against one reference each: sacrebleu's BLEU-4
    (Papineni et al., 2002) with its defaults (exponential smoothing), on the words as given."""
    import sacrebleu

    if len(hypotheses) != len(references) or not references:
        raise ValueError(f"need as many hypotheses as references, at least one: {len(hypotheses)}, {len(references)}")
    return float(sacrebleu.corpus_bleu(hypotheses, [references], tokenize="none").score)


def exact_match(hypotheses: list[str], references: list[str]) -> float:
    """The fraction of hypotheses identical to their reference."""
    if len(hypotheses) != len(references) or not references:
        raise ValueError(f"need as many hypotheses as references, at least one: {len(hypotheses)}, {len(references)}")
    return float(np.mean([h == r for h, r in zip(hypotheses, references, strict=True)]))


def best_assignment(scores: np.ndarray) -> np.ndarray:
    """The one-to-one assignment of rows to columns with the largest total score (Hungarian method).

    ``scores`` is (n_rows, n_cols) with n_rows <= n_cols; returns, for each row, its column.
    O(n^3) (the shortest-augmenting-path form of Kuhn and Munkres), NumPy only.
    """
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 2 or scores.shape[0] > scores.shape[1] or not np.isfinite(scores).all():
        raise ValueError(f"need a finite (rows, columns) matrix with rows <= columns, got shape {scores.shape}")
    cost = scores.max(initial=0.0) - scores  # minimise cost = maximise score
    rows, cols = cost.shape
    u, v = np.zeros(rows + 1), np.zeros(cols + 1)
    match = np.zeros(cols + 1, dtype=np.int64)  # match[j]: the row (1-based) assigned to column j; 0 = free
    for row in range(1, rows + 1):
        match[0], free_col = row, 0
        best = np.full(cols + 1, np.inf)
        previous = np.zeros(cols + 1, dtype=np.int64)
        used = np.zeros(cols + 1, dtype=bool)
        while match[free_col]:
            used[free_col] = True
            current_row = match[free_col]
            reduced = cost[current_row - 1] - u[current_row] - v[1:]
            improve = ~used[1:] & (reduced < best[1:])
            best[1:][improve] = reduced[improve]
            previous[1:][improve] = free_col
            candidates = np.where(used[1:], np.inf, best[1:])
            next_col = int(np.argmin(candidates)) + 1
            delta = candidates[next_col - 1]
            u[match[used]] += delta
            v[used] -= delta
            best[1:][~used[1:]] -= delta
            free_col = next_col
        while free_col:
            prior = previous[free_col]
            match[free_col] = match[prior]
            free_col = prior
    assignment = np.empty(rows, dtype=np.int64)
    for col in range(1, cols + 1):
        if match[col]:
            assignment[match[col] - 1] = col - 1
    return assignment


def matching_accuracy(codes: np.ndarray, classes: np.ndarray, num_codes: int,
                      num_classes: int | None = None) -> tuple[float, np.ndarray]:
    """Accuracy of the best one-to-one matching of unsupervised ``codes`` to ``classes``.

    Each code is mapped to a different class so that the most items agree (the
    usual score of a clustering, e.g. InfoGAN's categorical code against the true
    labels); returns (accuracy, the class of each code).
    """
    num_classes = num_codes if num_classes is None else num_classes
    if num_codes > num_classes:
        raise ValueError(f"a one-to-one matching needs num_codes <= num_classes, got {num_codes} > {num_classes}")
    codes, classes = np.asarray(codes), np.asarray(classes)
    if codes.shape != classes.shape or len(codes) == 0:
        raise ValueError(f"codes and classes must be two non-empty arrays of one length, got {codes.shape}, "
                         f"{classes.shape}")
    counts = np.zeros((num_codes, num_classes), dtype=np.int64)
    np.add.at(counts, (codes, classes), 1)
    assignment = best_assignment(counts)
    return float(counts[np.arange(num_codes), assignment].sum() / len(codes)), assignment


def mean_pairwise_distance(features: np.ndarray) -> float:
    """The mean Euclidean distance between two different rows of ``features`` (N, d): a diversity score.

    Samples that collapse onto few modes score near 0; a set of real images gives the scale.
    """
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2 or len(features) < 2:
        raise ValueError(f"need a (N, d) array with N >= 2, got shape {features.shape}")
    squares = (features**2).sum(1)
    distances = np.sqrt(np.clip(squares[:, None] + squares[None, :] - 2 * features @ features.T, 0, None))
    count = len(features)
    return float(distances[np.triu_indices(count, 1)].mean())


# ---------------------------------------------------------------------------------------------------- noise
def proportion_standard_error(p: float, n: int) -> float:
    """The binomial standard error sqrt(p (1 - p) / n) of a proportion ``p`` measured on ``n`` items."""
    if n < 1 or not 0 <= p <= 1:
        raise ValueError(f"need 0 <= p <= 1 and n >= 1, got p = {p}, n = {n}")
    return float(np.sqrt(p * (1 - p) / n))


def mean_standard_error(values: np.ndarray) -> float:
    """The standard error of the mean of ``values`` (e.g. one metric over seeds): sample std (ddof 1) / sqrt(n)."""
    values = np.asarray(values, dtype=np.float64).ravel()
    if len(values) < 2:
        raise ValueError(f"a standard error needs at least two values, got {len(values)}")
    return float(values.std(ddof=1) / np.sqrt(len(values)))


# ---------------------------------------------------------------------------------------------------- generative
def _features(features: np.ndarray, name: str) -> np.ndarray:
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2 or len(features) < 2:
        raise ValueError(f"{name}: need a (N, d) array with N >= 2, got shape {features.shape}")
    return features


def frechet_distance(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2)) between Gaussians fitted to two feature sets.

    Biased by the set sizes (it falls as they grow): compare only sets of one size, see
    :func:`frechet_distance_equal_size`.
    """
    features_a, features_b = _features(features_a, "features_a"), _features(features_b, "features_b")
    mean_a, mean_b = features_a.mean(0), features_b.mean(0)
    cov_a, cov_b = np.cov(features_a, rowvar=False), np.cov(features_b, rowvar=False)
    # Tr((S_a S_b)^(1/2)) = sum of sqrt of eigenvalues of S_a^(1/2) S_b S_a^(1/2)
    values, vectors = np.linalg.eigh(cov_a)
    root_a = (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T
    middle = np.linalg.eigvalsh(root_a @ cov_b @ root_a)
    trace_root = np.sqrt(np.clip(middle, 0, None)).sum()
    return float(((mean_a - mean_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_root)


def frechet_distance_equal_size(features_a: np.ndarray, features_b: np.ndarray, allow_unequal: bool = False) -> float:
    """:func:`frechet_distance`, refusing (``ValueError``) two sets of different sizes unless ``allow_unequal``:
    the distance of a smaller set is larger, so unequal sets compare a model with a floor it cannot reach."""
    if len(features_a) != len(features_b) and not allow_unequal:
        raise ValueError(f"Fréchet distance is biased by set size: compare sets of one size, got {len(features_a)} "
                         f"and {len(features_b)} (cut the larger, or pass allow_unequal=True)")
    return frechet_distance(features_a, features_b)


def _cubic_kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return (x @ y.T / x.shape[1] + 1) ** 3


def _unbiased_mmd2(x: np.ndarray, y: np.ndarray) -> float:
    """MMD^2 of two samples of size m with the diagonals k(x_i, x_i) left out (the unbiased U-statistic)."""
    return _mmd2_of_kernels(_cubic_kernel(x, x), _cubic_kernel(y, y), _cubic_kernel(x, y))


def _mmd2_of_kernels(k_xx: np.ndarray, k_yy: np.ndarray, k_xy: np.ndarray) -> float:
    """:func:`_unbiased_mmd2` from the three kernel matrices of the two samples (m x m each)."""
    m = len(k_xx)
    within = (k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)) / (m * (m - 1))
    return float(within - 2 * k_xy.mean())


# Up to this many items per set, kernel_inception_distance computes each kernel once for the whole sets and
# sums every subset's entries with two matrix products (:func:`_mmd2_of_subsets`).
_WHOLE_KERNEL_ITEMS = 5_000


def _mmd2_of_subsets(x: np.ndarray, y: np.ndarray, blocks: list[tuple[np.ndarray, np.ndarray]]) -> list[float]:
    """:func:`_unbiased_mmd2` of ``x[a], y[b]`` for every ``(a, b)`` in ``blocks`` (subsets of one size m),
    from the kernels of the whole sets: with w_a the 0/1 indicator of subset a, the sum of k(x_i, x_j) over
    i, j in a is w_a^T K_xx w_a, and its diagonal part is w_a . diag(K_xx)."""
    m = len(blocks[0][0])
    w_x, w_y = np.zeros((len(x), len(blocks))), np.zeros((len(y), len(blocks)))
    for j, (a, b) in enumerate(blocks):
        w_x[a, j], w_y[b, j] = 1.0, 1.0
    k_xx, k_yy = _cubic_kernel(x, x).astype(np.float64), _cubic_kernel(y, y).astype(np.float64)
    k_xy = _cubic_kernel(x, y).astype(np.float64)
    within = ((w_x * (k_xx @ w_x)).sum(0) - w_x.T @ np.diag(k_xx)
              + (w_y * (k_yy @ w_y)).sum(0) - w_y.T @ np.diag(k_yy)) / (m * (m - 1))
    between = (w_x * (k_xy @ w_y)).sum(0) / (m * m)
    return [float(v) for v in within - 2 * between]


def kernel_inception_distance(features_a: np.ndarray, features_b: np.ndarray, subsets: int = 20,
                              subset_size: int = 500, seed: int = 0, disjoint: bool = False) -> tuple[float, float]:
    """Kernel inception distance (Binkowski et al., 2018): the unbiased MMD^2 between two feature sets with the
    cubic kernel k(x, y) = (x.y / d + 1)^3, averaged over ``subsets`` random subsets of ``subset_size`` items of
    each set (drawn without replacement within a subset; all items when a set is smaller).

    Returns (mean, standard error of that mean over the subsets). Independently drawn subsets overlap when the
    sets are small, which makes that error too small; ``disjoint=True`` cuts one shuffle of each set into
    ``subsets`` blocks that share no item (it needs ``subsets * subset_size`` items in each set), and its error
    is then an honest one. Unbiased: two samples of one distribution score about 0 (negative values happen) at
    any set size.
    """
    features_a, features_b = _features(features_a, "features_a"), _features(features_b, "features_b")
    if features_a.shape[1] != features_b.shape[1]:
        raise ValueError(f"features of different widths: {features_a.shape[1]} and {features_b.shape[1]}")
    size = min(subset_size, len(features_a), len(features_b))
    if size < 2 or subsets < 1:
        raise ValueError(f"need subsets >= 1 and subsets of at least two items, got {subsets} of {size}")
    rng = np.random.default_rng(seed)
    if disjoint:
        if subsets * subset_size > min(len(features_a), len(features_b)):
            raise ValueError(f"{subsets} disjoint subsets of {subset_size} need that many items in each set, got "
                             f"{len(features_a)} and {len(features_b)}")
        order_a, order_b = rng.permutation(len(features_a)), rng.permutation(len(features_b))
        blocks = [(order_a[i * size : (i + 1) * size], order_b[i * size : (i + 1) * size]) for i in range(subsets)]
    else:
        blocks = [(rng.choice(len(features_a), size, replace=False), rng.choice(len(features_b), size, replace=False))
                  for _ in range(subsets)]
    if max(len(features_a), len(features_b)) <= _WHOLE_KERNEL_ITEMS:
        values = _mmd2_of_subsets(features_a, features_b, blocks)
    else:
        values = [_unbiased_mmd2(features_a[a], features_b[b]) for a, b in blocks]
    error = mean_standard_error(values) if subsets > 1 else float("nan")
    return float(np.mean(values)), error


def kid_half_sampling(features_a: np.ndarray, features_b: np.ndarray, draws: int = 50,
                      seed: int = 0) -> tuple[float, float]:
    """KID of two sets of one size n with the error of that one estimate: the mean and the standard deviation
    of the values on ``draws`` random half-size subsets (n // 2 items of each set).

    The mean of many half-set values approaches the full-set U-statistic (all the pairs). Given the sets, the
    half-set values vary by Var(KID at n/2) - Var(KID at n), which is Var(KID at n) where the distributions
    differ (the variance falls as 1 / n) and 3 Var(KID at n) where they agree (it falls as 1 / n^2): the error
    is right for a model unlike the data and up to sqrt(3) too large, on the safe side, near the floor.
    """
    if len(features_a) != len(features_b):
        raise ValueError(f"KID with a half-sampling error compares sets of one size, got {len(features_a)} and "
                         f"{len(features_b)}")
    if draws < 2 or len(features_a) < 4:
        raise ValueError(f"need draws >= 2 and at least 4 items, got {draws}, {len(features_a)}")
    mean, error_of_mean = kernel_inception_distance(features_a, features_b, subsets=draws,
                                                    subset_size=len(features_a) // 2, seed=seed)
    return mean, error_of_mean * np.sqrt(draws)  # the deviation of the draws, not of their mean


def _squared_distances(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    squares_x, squares_y = (x**2).sum(1), (y**2).sum(1)
    return np.clip(squares_x[:, None] + squares_y[None, :] - 2 * x @ y.T, 0, None)


def _knn_radii(features: np.ndarray, k: int) -> np.ndarray:
    """The distance of each row to its k-th nearest other row (itself excluded)."""
    distances = _squared_distances(features, features)
    np.fill_diagonal(distances, np.inf)
    return np.sqrt(np.partition(distances, k - 1, axis=1)[:, k - 1])


def _coverage(points: np.ndarray, centres: np.ndarray, radii: np.ndarray) -> float:
    """The share of ``points`` inside at least one ball (centre, radius)."""
    inside = np.sqrt(_squared_distances(points, centres)) <= radii[None, :]
    return float(inside.any(1).mean())


def precision_recall(real_features: np.ndarray, fake_features: np.ndarray, k: int = 3) -> tuple[float, float]:
    """Improved precision and recall (Kynkäänniemi et al., 2019), in feature space.

    Each set's manifold is the union of balls around its points, of radius the distance to the k-th
    nearest neighbour in the same set. Precision: the share of fake points inside the real manifold
    (are samples realistic?); recall: the share of real points inside the fake manifold (do samples
    cover the data?). Copies of a few training images: high precision, low recall.
    """
    real, fake = _features(real_features, "real_features"), _features(fake_features, "fake_features")
    if not 1 <= k < min(len(real), len(fake)):
        raise ValueError(f"k must be between 1 and {min(len(real), len(fake)) - 1}, got {k}")
    precision = _coverage(fake, real, _knn_radii(real, k))
    recall = _coverage(real, fake, _knn_radii(fake, k))
    return precision, recall


def _nearest_distances(points: np.ndarray, reference: np.ndarray, chunk: int = 1000) -> np.ndarray:
    """The distance of each of ``points`` to its nearest ``reference`` row: min_j |y_j|^2 - 2 x.y_j, plus |x|^2
    (the same as the minimum of :func:`_squared_distances`, with one pass over each block in place)."""
    squares_reference = (reference**2).sum(1)
    nearest = []
    for i in range(0, len(points), chunk):
        block = points[i : i + chunk]
        cross = block @ reference.T
        cross *= -2
        cross += squares_reference
        nearest.append(np.sqrt(np.clip(cross.min(1) + (block**2).sum(1), 0, None)))
    return np.concatenate(nearest)


def median_nearest_distance(points: np.ndarray, reference: np.ndarray) -> float:
    """The median, over ``points``, of the distance to the nearest item of ``reference``."""
    return float(np.median(_nearest_distances(points, reference)))


def memorisation_ratio(samples: np.ndarray, train: np.ndarray, test: np.ndarray,
                       test_median: float | None = None) -> float:
    """Median distance from each sample to its nearest training item, over the same median for real ``test``
    items (features or flattened images): about 1 for new draws from the data distribution, 0 for copies of
    training items. Both medians search the same ``train`` set (the nearest distance shrinks as it grows), and
    a median does not depend on the number of queries; equal sizes of ``samples`` and ``test`` still keep their
    sampling noise alike. ``test_median``: ``median_nearest_distance(test, train)`` when already computed (the
    judge scores many sample sets against one ``test`` set)."""
    samples, train, test = (_features(x, name) for x, name in ((samples, "samples"), (train, "train"),
                                                                (test, "test")))
    floor = median_nearest_distance(test, train) if test_median is None else float(test_median)
    if floor == 0:
        raise ValueError("the real test items are copies of training items: no scale to compare with")
    return median_nearest_distance(samples, train) / floor


def class_histogram(predicted: np.ndarray, num_classes: int) -> np.ndarray:
    """The share of items predicted as each class: (num_classes,), summing to 1 (a collapsed generator
    puts its mass on few classes; a uniform one is 1 / num_classes everywhere)."""
    predicted = np.asarray(predicted, dtype=np.int64).ravel()
    if len(predicted) == 0 or predicted.min() < 0 or predicted.max() >= num_classes:
        raise ValueError(f"need a non-empty array of classes in [0, {num_classes})")
    return np.bincount(predicted, minlength=num_classes) / len(predicted)


def bits_per_char(bits: np.ndarray) -> tuple[float, float]:
    """Bits per character of a text cut into rows of contiguous characters, and its standard error.

    ``bits`` (rows, length) holds each character's cost in bits under a model (-log2 p, or a
    cross-entropy in nats / ln 2). The mean is over every character; the standard error is that of
    the rows' means (the rows are long stretches of text, nearly independent of each other), so it
    says how much the number would move on another text of the same size.
    """
    bits = np.asarray(bits, dtype=np.float64)
    if bits.ndim != 2 or bits.shape[0] < 2 or bits.shape[1] < 1 or not np.isfinite(bits).all():
        raise ValueError(f"need finite (rows >= 2, length >= 1) bits, got shape {bits.shape}")
    return float(bits.mean()), mean_standard_error(bits.mean(1))


# ---------------------------------------------------------------------------------------------------- text
def unseen_word_accuracy(predicted: np.ndarray, tags: np.ndarray, unseen: np.ndarray) -> tuple[float, int]:
    """The share of correct tags over the words never seen in training, and how many such words there are.

    ``predicted`` and ``tags`` hold tag ids of the same shape (e.g. padded (sentences, words)); ``unseen``
    is True at the real words that the training text does not contain (False at seen words and padding).
    """
    predicted, tags, unseen = np.asarray(predicted), np.asarray(tags), np.asarray(unseen, dtype=bool)
    if predicted.shape != tags.shape or tags.shape != unseen.shape:
        raise ValueError(f"shapes differ: {predicted.shape}, {tags.shape}, {unseen.shape}")
    count = int(unseen.sum())
    if count == 0:
        raise ValueError("no unseen words to score")
    return float((predicted[unseen] == tags[unseen]).mean()), count


def judged_share(verdicts: np.ndarray, requested: np.ndarray) -> float:
    """The share of generated items that a judge assigns to the class they were generated for
    (``verdicts`` -1 for an item the judge could not read: counted wrong)."""
    verdicts, requested = np.asarray(verdicts).ravel(), np.asarray(requested).ravel()
    if len(verdicts) == 0 or verdicts.shape != requested.shape:
        raise ValueError(f"need as many verdicts as requests, got {verdicts.shape} and {requested.shape}")
    return float((verdicts == requested).mean())


def start_letter_chance(first_letters: list[str], labels: np.ndarray, num_classes: int) -> float:
    """The judged share of a generator that gets its start letter right and nothing else.

    Every class is requested equally often, with start letters drawn from its training names (as the
    surname page does), and a judge that sees only the start letter ``s`` names class ``c`` with the
    probability ``P(s | c) / sum_c' P(s | c')``: the chance is ``(1 / C) sum_c sum_s P(s | c)^2 /
    sum_c' P(s | c')``. A letter shared by every class gives 1 / C; a letter used by one class only, 1.
    """
    labels = np.asarray(labels, dtype=np.int64)
    letters = sorted(set(first_letters))
    if len(first_letters) != len(labels) or not letters:
        raise ValueError("need one first letter per label")
    counts = np.zeros((num_classes, len(letters)))
    np.add.at(counts, (labels, [letters.index(s) for s in first_letters]), 1)
    present = counts.sum(1) > 0
    p = counts[present] / counts[present].sum(1, keepdims=True)  # P(s | c), classes with names
    return float((p * p / p.sum(0, keepdims=True)).sum() / present.sum())


# ---------------------------------------------------------------------------------------------------- embeddings
def neighbour_agreement_with_noise(neighbours: np.ndarray, reference: np.ndarray) -> tuple[float, float]:
    """:func:`neighbour_agreement` and its standard error over the query words (the rows): how much the
    number would move with another set of query words of the same size."""
    neighbours, reference = np.asarray(neighbours), np.asarray(reference)
    if neighbours.shape != reference.shape or len(neighbours) < 2:
        raise ValueError(f"need two (N >= 2, k) neighbour lists of one shape: {neighbours.shape}, {reference.shape}")
    shares = np.array([len(set(a) & set(b)) / len(a) for a, b in zip(neighbours, reference)])
    return float(shares.mean()), mean_standard_error(shares)


def chunked_mean(values: np.ndarray, chunks: int = 20) -> tuple[float, float]:
    """The mean of ``values`` (held-out costs in text order) and its standard error over ``chunks``
    contiguous, nearly independent stretches (neighbouring items of a text are not independent)."""
    values = np.asarray(values, dtype=np.float64).ravel()
    if chunks < 2 or len(values) < chunks or not np.isfinite(values).all():
        raise ValueError(f"need at least {max(chunks, 2)} finite values and chunks >= 2, got {len(values)}, {chunks}")
    return float(values.mean()), mean_standard_error([part.mean() for part in np.array_split(values, chunks)])


# ---------------------------------------------------------------------------------------------------- CycleGAN
def _rms_distances(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(len(x), len(y)) root-mean-square differences between the flattened rows of ``x`` and ``y``."""
    return np.sqrt(_squared_distances(x, y) / x.shape[1])


def translation_fidelity(inputs: np.ndarray, outputs: np.ndarray) -> tuple[float, float]:
    """How much of its input a translation keeps, and that number's standard error.

    ``outputs[i]`` is the translation of ``inputs[i]`` (images or features of one shape). For each input,
    the share of the *other* inputs' translations that lie farther from it than its own translation (ties
    count half), averaged over the inputs; the distance is the root-mean-square difference of the flattened
    items. 1: every output is nearer its input than any other output (the identity scores 1); about 0.5:
    outputs that ignore their inputs (one fixed image, a random image of the target domain). The standard
    error is that of the mean of the per-input shares.
    """
    inputs = _features(np.asarray(inputs).reshape(len(inputs), -1), "inputs")
    outputs = _features(np.asarray(outputs).reshape(len(outputs), -1), "outputs")
    if inputs.shape != outputs.shape:
        raise ValueError(f"one translation per input: got shapes {inputs.shape} and {outputs.shape}")
    n = len(inputs)
    own = np.sqrt(((inputs - outputs) ** 2).mean(1))  # d(x_i, y_i), exactly (the matrix product rounds)
    shares = np.empty(n)
    for start in range(0, n, 1000):
        rows = slice(start, start + 1000)
        distances = _rms_distances(inputs[rows], outputs)
        distances[np.arange(len(distances)), np.arange(n)[rows]] = own[rows]  # the pair itself: a tie, removed below
        # ties within rounding count half: the matrix product is exact only to about 1e-7 of the scale
        close = np.isclose(distances, own[rows, None], rtol=1e-6, atol=1e-9)
        farther = (distances > own[rows, None]) & ~close
        shares[rows] = (farther.sum(1) + 0.5 * (close.sum(1) - 1)) / (n - 1)
    return float(shares.mean()), float(shares.std(ddof=1) / np.sqrt(n))


# ---------------------------------------------------------------------------------------------------- seq2seq
def bleu_by_length(hypotheses: list[str], references: list[str], lengths: np.ndarray,
                   bins: list[tuple[int, int]]) -> list[float]:
    """Corpus BLEU of the items whose ``lengths`` (e.g. source words) fall in each ``[low, high)`` of
    ``bins``; a bin with no items is an error (BLEU of nothing is undefined)."""
    lengths = np.asarray(lengths)
    if len(lengths) != len(hypotheses):
        raise ValueError(f"need one length per hypothesis: {len(lengths)} lengths, {len(hypotheses)} hypotheses")
    scores = []
    for low, high in bins:
        keep = np.flatnonzero((lengths >= low) & (lengths < high))
        if len(keep) == 0:
            raise ValueError(f"no item of length in [{low}, {high})")
        scores.append(corpus_bleu([hypotheses[i] for i in keep], [references[i] for i in keep]))
    return scores


def bleu_standard_error(hypotheses: list[str], references: list[str], parts: int = 10, seed: int = 0) -> float:
    """The standard error of a corpus BLEU: the corpus cut at random into ``parts`` equal parts, and the
    standard error of the mean of the parts' BLEU (a part's spread shrinks with the square root of
    its size, so this is the spread of the whole corpus's score)."""
    if len(hypotheses) != len(references) or len(references) < 2 * parts:
        raise ValueError(f"need as many hypotheses as references, at least {2 * parts}")
    order = np.random.default_rng(seed).permutation(len(references))
    scores = [corpus_bleu([hypotheses[i] for i in part], [references[i] for i in part])
              for part in np.array_split(order, parts)]
    return mean_standard_error(np.array(scores))


def token_f1(hypotheses: list[str], references: list[str]) -> np.ndarray:
    """Per item, the F1 of the words shared with the reference (a bag of words, counts clipped):
    2 P R / (P + R) with P = shared / hypothesis words, R = shared / reference words; 1 for two empty
    strings, 0 when only one is empty."""
    if len(hypotheses) != len(references):
        raise ValueError(f"need as many hypotheses as references: {len(hypotheses)}, {len(references)}")
    from collections import Counter

    scores = []
    for hypothesis, reference in zip(hypotheses, references, strict=True):
        h, r = Counter(hypothesis.split()), Counter(reference.split())
        if not h or not r:
            scores.append(float(not h and not r))
            continue
        shared = sum((h & r).values())
        scores.append(0.0 if shared == 0 else 2 * shared / (sum(h.values()) + sum(r.values())))
    return np.array(scores)


# ------------------------------------------------------------------------------------ CNN and row-LSTM pages
def paired_difference(correct_a: np.ndarray, correct_b: np.ndarray) -> tuple[float, float]:
    """Accuracy of A minus accuracy of B on the same test items, and the standard error of that difference.

    ``correct_a`` / ``correct_b`` say item by item whether each model was right. The items are shared, so
    the error is that of the mean of the per-item differences (in {-1, 0, 1}), not of two independent
    proportions: agreement on most items makes it much smaller.
    """
    a = np.asarray(correct_a, dtype=np.float64).ravel()
    b = np.asarray(correct_b, dtype=np.float64).ravel()
    if a.shape != b.shape or len(a) < 2:
        raise ValueError(f"need two equal-length (>= 2) arrays of per-item correctness, got {a.shape}, {b.shape}")
    return float(a.mean() - b.mean()), mean_standard_error(a - b)


def sure_from(probabilities: np.ndarray, threshold: float = 0.5) -> int | None:
    """The first step (counted from 1) from which ``probabilities`` stays above ``threshold`` to the end,
    or ``None`` if the last step is not above it. E.g. ``[.2, .7, .4, .6, .8]`` -> 4."""
    above = np.asarray(probabilities, dtype=np.float64).ravel() > threshold
    if len(above) == 0 or not above[-1]:
        return None
    below = np.flatnonzero(~above)
    return int(below[-1]) + 2 if len(below) else 1
