"""Embedding analysis helpers on tables whose answers are known by construction."""
import numpy as np
import pytest

from gradspace.autograd import Tensor
from gradspace.train.data import Vocab
from gradspace.train.embeddings import (
    analogy,
    analogy_accuracy,
    class_purity,
    cosine_similarity,
    nearest_neighbors,
    pca_2d,
)


def on_circle(degrees):
    """Unit vectors at the given angles in the plane, one row each."""
    rad = np.deg2rad(degrees)
    return np.stack([np.cos(rad), np.sin(rad)], axis=1)


# -- cosine_similarity -----------------------------------------------------------------------

def test_cosine_of_known_vectors():
    E = np.array([[1.0, 0.0], [0.0, 2.0], [3.0, 3.0], [0.0, 0.0]])
    S = cosine_similarity(E)
    r = 1 / np.sqrt(2)
    np.testing.assert_allclose(S, [[1, 0, r, 0], [0, 1, r, 0], [r, r, 1, 0], [0, 0, 0, 0]],
                               atol=1e-12)


def test_cosine_between_two_sets_and_from_tensors_or_modules():
    A = on_circle([0, 90])
    B = on_circle([0, 60, 180])
    expected = np.cos(np.deg2rad([[0, 60, 180], [90, 30, 90]]))
    np.testing.assert_allclose(cosine_similarity(A, B), expected, atol=1e-12)

    class Module:
        weight = Tensor(A.astype(np.float32))

    np.testing.assert_allclose(cosine_similarity(Tensor(A), Module()), np.eye(2), atol=1e-6)


def test_cosine_needs_a_matrix():
    with pytest.raises(ValueError, match="2-d"):
        cosine_similarity(np.ones(3))


# -- nearest_neighbors -----------------------------------------------------------------------

WORDS = ["a", "b", "c", "d", "e"]
ANGLES = [0, 10, 50, 120, 180]


@pytest.mark.parametrize("vocab", [WORDS, {w: i for i, w in enumerate(WORDS)}, "Vocab"])
def test_neighbours_by_descending_cosine_without_the_word(vocab):
    if vocab == "Vocab":
        vocab = Vocab(WORDS)  # equal counts: ids alphabetical after <unk>
        E = np.vstack([[0.0, -1.0], on_circle(ANGLES)])
    else:
        E = on_circle(ANGLES)
    result = nearest_neighbors(E, vocab, "a", k=3)
    assert [w for w, _ in result] == ["b", "c", "<unk>" if isinstance(vocab, Vocab) else "d"]
    np.testing.assert_allclose([s for _, s in result][:2], np.cos(np.deg2rad([10, 50])))
    assert [w for w, _ in nearest_neighbors(E, vocab, "d", k=10)][:2] == ["e", "c"]


def test_neighbours_by_id_and_k_larger_than_the_vocabulary():
    E = on_circle(ANGLES)
    assert nearest_neighbors(E, WORDS, 4, k=100)[0][0] == "d"
    assert len(nearest_neighbors(E, WORDS, 4, k=100)) == 4
    with pytest.raises(IndexError):
        nearest_neighbors(E, WORDS, 5)


def test_unknown_words_raise_key_error_naming_them():
    E = on_circle(ANGLES)
    with pytest.raises(KeyError, match="zebra"):
        nearest_neighbors(E, WORDS, "zebra")
    with pytest.raises(KeyError, match="zebra"):
        analogy(E, WORDS, "a", "zebra", "c")


# -- analogy ---------------------------------------------------------------------------------

def planted_pairs(n_pairs=5, extra=3, seed=0):
    """word (i, side) = e_i + s_side with e_1..e_n, s_x, s_y orthonormal, so that
    x_i - x_j + y_j = y_i exactly; plus distractor words in random directions."""
    dim = n_pairs + 2 + extra
    Q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(dim, dim)))
    e, s_x, s_y = Q[:n_pairs], Q[n_pairs], Q[n_pairs + 1]
    words = [f"x{i}" for i in range(n_pairs)] + [f"y{i}" for i in range(n_pairs)]
    E = np.vstack([e + s_x, e + s_y, Q[n_pairs + 2:]])
    return E, words + [f"noise{k}" for k in range(extra)]


def test_planted_analogies_are_found():
    E, words = planted_pairs()
    (word, cos), = analogy(E, words, "x1", "x3", "y3")
    assert word == "y1" and cos == pytest.approx(1.0)
    assert analogy(E, words, "y2", "y0", "x0")[0][0] == "x2"
    quads = [(f"x{i}", f"x{j}", f"y{j}", f"y{i}") for i in range(5) for j in range(5) if i != j]
    assert analogy_accuracy(E, words, quads) == 1.0


def test_a_wrong_key_scores_zero():
    E, words = planted_pairs()
    quads = [(f"x{i}", f"x{j}", f"y{j}", f"x{i}") for i in range(5) for j in range(5) if i != j]
    assert analogy_accuracy(E, words, quads) == 0.0  # x_i is a query word: never an answer
    with pytest.raises(ValueError):
        analogy_accuracy(E, words, [])


def test_query_words_are_never_answers():
    E, words = planted_pairs()
    # x1 - x2 + x2 is x1 itself, which is excluded; so are x2 (twice) -> the rest, ranked.
    result = analogy(E, words, "x1", "x2", "x2", k=len(words))
    assert {w for w, _ in result} == set(words) - {"x1", "x2"}
    assert [s for _, s in result] == sorted((s for _, s in result), reverse=True)
    scores = dict(result)
    assert scores["y1"] == pytest.approx(0.5) and scores["x0"] == pytest.approx(0.5)
    assert scores["noise0"] == pytest.approx(0.0, abs=1e-12)
    # x1 - x1 + y2 is y2, the third query word: excluded too.
    result = analogy(E, words, "x1", "x1", "y2", k=len(words))
    assert {w for w, _ in result} == set(words) - {"x1", "y2"}


# -- pca_2d ----------------------------------------------------------------------------------

def test_pca_recovers_a_plane_in_five_dimensions():
    a = np.array([3.0, -2.0, 1.0, -2.0])  # zero mean, |a|^2 = 18
    b = np.array([0.3, 0.2, -0.5, 0.0])  # zero mean, |b|^2 = 0.38, orthogonal to a
    Q, _ = np.linalg.qr(np.random.default_rng(1).normal(size=(5, 5)))
    offset = np.array([10.0, -2.0, 0.5, 7.0, 1.0])
    E = np.outer(a, Q[0]) + np.outer(b, Q[1]) + offset
    P = pca_2d(E)
    assert P.shape == (4, 2)
    # Signs: the row with the largest |coordinate| on an axis is positive: row 0 of a (3),
    # row 2 of b (-0.5), so the second axis comes out as -b.
    np.testing.assert_allclose(P, np.stack([a, -b], axis=1), atol=1e-10)
    np.testing.assert_allclose(pca_2d(-E), P, atol=1e-10)


def test_pca_axes_carry_the_top_variances():
    E = np.random.default_rng(2).normal(size=(200, 6)) * [5, 1, 3, 0.5, 2, 1]
    P = pca_2d(E)
    top = np.sort(np.linalg.eigvalsh(np.cov(E.T, bias=True)))[::-1][:2]
    np.testing.assert_allclose(P.var(axis=0), top, rtol=1e-10)
    np.testing.assert_allclose(P.mean(axis=0), 0, atol=1e-10)
    assert abs(np.corrcoef(P.T)[0, 1]) < 1e-8


def test_pca_of_a_single_column_pads_with_zeros():
    P = pca_2d(np.array([[1.0], [4.0], [2.0]]))  # centred: -4/3, 5/3, -1/3
    np.testing.assert_allclose(P, [[-4 / 3, 0], [5 / 3, 0], [-1 / 3, 0]], atol=1e-12)


# -- class_purity ----------------------------------------------------------------------------

def purity_table(degrees):
    words = list(degrees)
    return on_circle([degrees[w] for w in words]), words


CLASSES = {"A": ["a0", "a1", "a2", "a3"], "B": ["b0", "b1", "b2"]}


def test_two_clean_clusters_are_pure():
    E, words = purity_table({"a0": 0, "a1": 4, "a2": 8, "a3": 12, "b0": 90, "b1": 94,
                             "b2": 99})
    assert class_purity(E, words, CLASSES) == 1.0


def test_a_stray_word_costs_exactly_itself():
    # a3 sits among the Bs: its nearest word is b0 (30 degrees) rather than a2 (52).
    E, words = purity_table({"a0": 0, "a1": 4, "a2": 8, "a3": 60, "b0": 90, "b1": 94,
                             "b2": 99})
    assert class_purity(E, words, CLASSES) == pytest.approx(6 / 7)


def test_unlabelled_words_compete_but_are_not_scored():
    # "the" at 1 degree is nearest to a0 and a1 (misses); nobody scores "the" itself.
    E, words = purity_table({"the": 1, "a0": 0, "a1": 4, "a2": 9, "a3": 13, "b0": 90,
                             "b1": 94, "b2": 99, "extra": 200})
    assert class_purity(E, words, CLASSES) == pytest.approx(5 / 7)
    # Class words missing from the vocabulary are skipped.
    assert class_purity(E, words, {"A": ["a2", "a3", "zzz"], "B": ["b0", "b1"]}) == 1.0


def test_purity_refuses_ambiguous_or_empty_classes():
    E, words = purity_table({"a0": 0, "a1": 4, "b0": 90})
    with pytest.raises(ValueError, match="a1"):
        class_purity(E, words, {"A": ["a0", "a1"], "B": ["a1", "b0"]})
    with pytest.raises(ValueError):
        class_purity(E, words, {"A": ["zzz"]})


def test_plot_2d_draws_one_labelled_point_per_known_word_coloured_by_class():
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from gradspace.train.embeddings import plot_2d
    rng = np.random.default_rng(0)
    E = rng.standard_normal((6, 4))
    itos = ["<unk>", "cat", "dog", "red", "blue", "green"]
    classes = {"animals": ["cat", "dog", "cow"], "colours": ["red", "blue", "green"]}
    ax = plot_2d(E, itos, classes, ax=Figure().add_subplot())
    points = [c.get_offsets() for c in ax.collections]
    assert [len(p) for p in points] == [2, 3]                          # "cow" is not in itos
    assert sorted(t.get_text() for t in ax.texts) == ["blue", "cat", "dog", "green", "red"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["animals", "colours"]
    with pytest.raises(ValueError, match="none of the words"):
        plot_2d(E, itos, {"x": ["zebra"]}, ax=Figure().add_subplot())


def test_plot_2d_labels_a_subset_and_tells_sixteen_classes_apart():
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from gradspace.train.embeddings import plot_2d
    itos = ["<unk>"] + [f"w{i}" for i in range(48)]
    classes = {f"class{k}": [f"w{3 * k + j}" for j in range(3)] for k in range(16)}
    E = np.random.default_rng(1).standard_normal((49, 5))
    ax = plot_2d(E, itos, classes, ax=Figure().add_subplot(), annotate=1)
    assert sorted(t.get_text() for t in ax.texts) == sorted(f"w{3 * k}" for k in range(16))
    looks = {(tuple(c.get_facecolor()[0]), c.get_paths()[0].vertices.tobytes())
             for c in ax.collections}
    assert len(looks) == 16                                # colour and marker, never both same
    assert ax.get_xlabel() == "PC 1" and ax.get_ylabel() == "PC 2"
