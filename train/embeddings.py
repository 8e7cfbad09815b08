"""Looking at what an embedding table learned: similarity, neighbours, analogies, a 2-D map.

Every function takes the table E as a `(V, d)` numpy array, a Tensor (its `.data` is used),
or a module with a `.weight` (an `nn.Embedding`); row i is the vector of word i. Words are
named through a `Vocab`, a list of words (itos) or a dict word -> id (stoi). A word that is
not in the vocabulary raises KeyError naming it. All arithmetic is done in float64.
`export_projector` writes a table for the TensorBoard Embedding Projector.
"""
import os

import numpy as np

__all__ = [
    "analogy",
    "analogy_accuracy",
    "class_purity",
    "cosine_similarity",
    "export_projector",
    "nearest_neighbors",
    "pca_2d",
    "plot_2d",
]


def _matrix(E):
    """The table as a float64 (V, d) array."""
    if not isinstance(E, np.ndarray):
        E = getattr(E, "weight", E)
        E = getattr(E, "data", E)  # a Tensor or a Parameter (ndarray's .data is a buffer)
    E = np.asarray(E, dtype=np.float64)
    if E.ndim != 2:
        raise ValueError(f"an embedding table must be 2-d (V, d), got shape {E.shape}")
    return E


def _unit(E, eps=1e-12):
    """Rows scaled to length 1; a zero row stays zero (its cosine with anything is 0)."""
    return E / np.maximum(np.linalg.norm(E, axis=-1, keepdims=True), eps)


def _maps(vocab):
    """(itos, stoi) of a Vocab, a list of words, or a dict word -> id."""
    if hasattr(vocab, "itos") and hasattr(vocab, "stoi"):
        return list(vocab.itos), vocab.stoi
    if isinstance(vocab, dict):
        itos = [None] * (max(vocab.values()) + 1 if vocab else 0)
        for word, i in vocab.items():
            itos[i] = word
        return itos, vocab
    itos = list(vocab)
    return itos, {w: i for i, w in enumerate(itos)}


def _id(stoi, n, word_or_id):
    if isinstance(word_or_id, str):
        if word_or_id not in stoi:
            raise KeyError(f"{word_or_id!r} is not in the vocabulary")
        return stoi[word_or_id]
    i = int(word_or_id)
    if not 0 <= i < n:
        raise IndexError(f"id {i} is out of range for a vocabulary of {n}")
    return i


def _top_k(scores, k, itos):
    """The k best (word, score) by descending score, ties by id; -inf scores are skipped."""
    order = np.argsort(-scores, kind="stable")[:k]
    return [(itos[i], float(scores[i])) for i in order if np.isfinite(scores[i])]


def cosine_similarity(A, B=None):
    """cos(a_i, b_j) = a_i . b_j / (|a_i| |b_j|) for every row of A and of B (B=None: A).

    Returns an (n_A, n_B) array. A zero vector has cosine 0 with everything.
    """
    A = _unit(_matrix(A))
    B = A if B is None else _unit(_matrix(B))
    return A @ B.T


def nearest_neighbors(E, vocab, word_or_id, k=5):
    """The k words of highest cosine with `word_or_id` (the word itself excluded), as a list
    of (word, cosine) by descending cosine."""
    E = _matrix(E)
    itos, stoi = _maps(vocab)
    i = _id(stoi, len(E), word_or_id)
    scores = cosine_similarity(E[i:i + 1], E)[0]
    scores[i] = -np.inf
    return _top_k(scores, k, itos)


def analogy(E, vocab, a, b, c, k=1):
    """Words closest to  a - b + c  (king - man + woman -> queen), as (word, cosine) pairs.

    This is word2vec's 3CosAdd: the three vectors are first scaled to unit length, so no
    word dominates by its norm, and a, b and c themselves are never answers.
    """
    E = _matrix(E)
    itos, stoi = _maps(vocab)
    ia, ib, ic = (_id(stoi, len(E), w) for w in (a, b, c))
    U = _unit(E)
    scores = cosine_similarity((U[ia] - U[ib] + U[ic])[None], U)[0]
    scores[[ia, ib, ic]] = -np.inf
    return _top_k(scores, k, itos)


def analogy_accuracy(E, vocab, quadruples):
    """Fraction of (a, b, c, d) whose best answer to a - b + c is d. Quadruples with a word
    outside the vocabulary raise KeyError."""
    quadruples = list(quadruples)
    if not quadruples:
        raise ValueError("no analogies to score")
    hits = sum(analogy(E, vocab, a, b, c)[0][0] == d for a, b, c, d in quadruples)
    return hits / len(quadruples)


def pca_2d(E):
    """The rows projected on the first two principal axes: (V, 2).

    With the centred table  X = E - mean(E) = U S V^T  (SVD), the coordinates are
    U[:, :2] S[:2] = X V[:, :2]. The sign of each axis is fixed so that the row with the
    largest absolute coordinate on it is positive, so the picture does not flip between runs.
    A table with one column gets a zero second coordinate.
    """
    X = _matrix(E)
    X = X - X.mean(axis=0)
    U, S, _ = np.linalg.svd(X, full_matrices=False)
    P = np.zeros((len(X), 2))
    r = min(2, len(S))
    P[:, :r] = U[:, :r] * S[:r]
    if len(X):
        rows = np.abs(P).argmax(axis=0)
        P *= np.where(P[rows, [0, 1]] < 0, -1.0, 1.0)
    return P


def class_purity(E, vocab, word_classes):
    """Fraction of the labelled words whose nearest neighbour (by cosine) has the same class.

    `word_classes` maps a class name to its words. Only the labelled words that are in the
    vocabulary are scored, and each one's neighbour is searched among all the other words of
    the vocabulary, labelled or not, so a class word whose nearest neighbour is "the" or
    "<unk>" counts as a miss. A word listed in two classes raises ValueError.
    """
    E = _matrix(E)
    itos, stoi = _maps(vocab)
    label = {}
    for name, words in word_classes.items():
        for w in words:
            if label.setdefault(w, name) != name:
                raise ValueError(f"{w!r} is in two classes: {label[w]!r} and {name!r}")
    scored = [w for w in label if w in stoi]
    if not scored:
        raise ValueError("none of the words of word_classes is in the vocabulary")
    ids = np.array([stoi[w] for w in scored])
    scores = cosine_similarity(E[ids], E)
    scores[np.arange(len(ids)), ids] = -np.inf
    nearest = scores.argmax(axis=1)
    hits = sum(label.get(itos[j]) == label[w] for w, j in zip(scored, nearest))
    return hits / len(scored)


def plot_2d(E, vocab, word_classes, ax=None, annotate=True, title=None):
    """The words of `word_classes` on the first two principal axes of their vectors, one colour
    and marker per class, each point labelled with its word. Returns the matplotlib axes.

    The projection is fitted to the plotted words only (`pca_2d` of their rows), so the
    picture spends its two dimensions on what separates them. Words not in the vocabulary are
    left out. annotate: True labels every word, False none, an int k the first k words of
    each class (a legible map when clusters are tight). Classes get 9 distinct colours, then
    the same colours with another marker, so 16 classes stay tellable apart. Without `ax`, a
    new pyplot figure is made (in a notebook it shows inline).
    """
    from matplotlib import colormaps, patheffects
    E = _matrix(E)
    _, stoi = _maps(vocab)
    classes = {name: [w for w in words if w in stoi] for name, words in word_classes.items()}
    classes = {name: words for name, words in classes.items() if words}
    if not classes:
        raise ValueError("plot_2d: none of the words of word_classes is in the vocabulary")
    words = [w for ws in classes.values() for w in ws]
    P = pca_2d(E[[stoi[w] for w in words]])                             # (n, 2)
    if ax is None:
        import matplotlib.pyplot as plt
        _, ax = plt.subplots(figsize=(10, 8))
    palette = [colormaps["tab10"](i) for i in (0, 1, 2, 3, 4, 5, 6, 8, 9)]   # no grey
    markers = "osD^vP*X"
    per_class = len(words) if annotate is True else int(annotate or 0)
    outline = [patheffects.withStroke(linewidth=2, foreground="white")]
    start = 0
    for k, (name, ws) in enumerate(classes.items()):
        xy, start = P[start:start + len(ws)], start + len(ws)
        colour = palette[k % len(palette)]
        marker = markers[(k // len(palette)) % len(markers)]
        ax.scatter(xy[:, 0], xy[:, 1], s=18, color=colour, marker=marker, label=name)
        for (x, y), w in list(zip(xy, ws))[:per_class]:
            ax.annotate(w, (x, y), fontsize=7, color=colour, xytext=(3, 3),
                        textcoords="offset points", path_effects=outline)
    ax.set_title(title or "embeddings: first two principal components")
    ax.set(xlabel="PC 1", ylabel="PC 2")
    ax.legend(fontsize=7, ncol=2, loc="best", markerscale=1.3)
    return ax


def export_projector(out_dir, vectors, labels):
    """Write `vectors.tsv` and `metadata.tsv` into `out_dir` for the TensorBoard Embedding
    Projector (projector.tensorflow.org: "Load", then the two files); returns their paths.

    vectors.tsv: one row of the table per line, its numbers separated by tabs, no header.
    metadata.tsv: with `labels` a sequence of strings (one per row, e.g. `vocab.itos`), one
    label per line and no header, the projector's format for a single column; with `labels` a
    dict {column name: sequence}, a header line of the column names, then one line per row.
    The projector skips blank lines and splits on tabs, so a blank label or one holding a tab
    or a line break would shift every row after it: those raise ValueError, as do a label
    count that differs from the number of rows, a table that is not 2-d with at least two
    columns (the projector rejects 1-d vectors) or that holds NaN or inf. Nothing is written
    then. Each file is written to a temporary file and renamed into place.
    """
    from gradspace.train.checkpoint import atomic_open
    E = _matrix(vectors)
    if E.shape[1] < 2:
        raise ValueError(f"export_projector: the projector needs vectors of at least 2 "
                         f"numbers, got shape {E.shape}")
    if not np.all(np.isfinite(E)):
        raise ValueError("export_projector: the vectors hold NaN or inf")
    columns = dict(labels) if isinstance(labels, dict) else {"label": labels}
    columns = {str(name): [str(v) for v in values] for name, values in columns.items()}
    if not columns:
        raise ValueError("export_projector: labels has no column")
    header = len(columns) > 1          # one column: no header (the projector's own rule)
    for name, values in columns.items():
        if len(values) != len(E):
            raise ValueError(f"export_projector: {len(E)} vectors but {len(values)} labels "
                             f"in {name!r}")
    rows = list(zip(*columns.values()))
    for i, row in enumerate(([tuple(columns)] if header else []) + rows):
        if not "".join(row).strip() or any(c in v for v in row for c in "\t\n\r"):
            what = "the column names" if header and i == 0 else f"row {i - header}"
            raise ValueError(f"export_projector: {what} {row!r}: a label is blank or holds a "
                             f"tab or line break, which the projector would misread")
    paths = (os.path.join(out_dir, "vectors.tsv"), os.path.join(out_dir, "metadata.tsv"))
    with atomic_open(paths[0], "w", encoding="utf-8", newline="\n") as f:
        f.writelines("\t".join(f"{x:.9g}" for x in row) + "\n" for row in E)  # float32 exact
    with atomic_open(paths[1], "w", encoding="utf-8", newline="\n") as f:
        if header:
            f.write("\t".join(columns) + "\n")
        f.writelines("\t".join(row) + "\n" for row in rows)
    return paths
