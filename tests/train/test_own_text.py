"""The recipes on a user's own text, not the shipped corpus: skip-gram maps and lists the
text's frequent content words (or the words asked for), charlm measures a sorted file fairly,
and the embeddings go out in the TensorBoard Embedding Projector's format."""
import random
import re
from pathlib import Path

import numpy as np
import pytest

from gradspace.train.cli import main
from gradspace.train.corpus import load_corpus
from gradspace.train.data import STOP_WORDS, Vocab, tokenize
from gradspace.train.embeddings import export_projector
from gradspace.train.recipes import charlm, skipgram

HARBOUR = Path(__file__).resolve().parents[1] / "data" / "harbour.txt"   # ordinary English
NEIGHBOR_LINE = re.compile(r"^([^\W\d_]+(?:'[^\W\d_]+)*) +((?:\S+ -?\d\.\d\d(?:  |$))+)$")


def test_skipgram_on_ordinary_english_maps_and_lists_its_frequent_content_words(
        tmp_path, monkeypatch, capsys):
    assert len(tokenize(HARBOUR.read_text())) > 2000
    axes = []

    def plot_2d(*args, **kwargs):                  # the recipe's own call, its axes kept
        axes.append(real_plot_2d(*args, **kwargs))
        return axes[-1]
    real_plot_2d = skipgram.plot_2d
    monkeypatch.setattr(skipgram, "plot_2d", plot_2d)
    out = tmp_path / "run"
    status = main(["skipgram", "--corpus", str(HARBOUR), "--epochs", "6", "--batch-size", "64",
                   "--dim", "16", "--out", str(out), "--no-progress", "--export-projector"])
    stdout, stderr = capsys.readouterr()
    assert status == 0, stderr

    labels = [t.get_text() for t in axes[0].texts]             # the words written on the map
    assert len(labels) >= 30 and len(set(labels)) == len(labels)
    assert not set(labels) & STOP_WORDS
    assert {"harbour", "boats", "fishermen", "sea"} <= set(labels)
    assert (out / "embeddings.png").read_bytes()[:4] == b"\x89PNG"

    lines = (out / "neighbors.txt").read_text().splitlines()
    rows = [NEIGHBOR_LINE.match(line) for line in lines if line and line[0] not in "#["]
    assert len(rows) >= 20 and all(rows), [line for line in lines if line][:5]
    for row in rows:
        pairs = row.group(2).split("  ")
        assert len(pairs) == 5
        sims = [float(p.split()[1]) for p in pairs]
        assert sims == sorted(sims, reverse=True) and all(-1 <= s <= 1 for s in sims)
    assert [row.group(1) for row in rows] == labels            # the same words, same order
    assert "class purity" not in stdout and "class purity" not in "\n".join(lines)

    vocab = Vocab.load(out / "vocab.json")
    vectors = np.loadtxt(out / "vectors.tsv", delimiter="\t", ndmin=2)
    assert vectors.shape == (len(vocab), 16)
    assert (out / "metadata.tsv").read_text().splitlines() == vocab.itos


def test_words_asks_for_given_words():
    vocab = Vocab(tokenize(HARBOUR.read_text()))
    config = skipgram.Config(words="Sea, boats,lighthouse,sea")
    assert skipgram.words_to_study(vocab, config) == {"your words": ["sea", "boats",
                                                                     "lighthouse"]}
    with pytest.raises(ValueError, match="--words .*zzyzx"):
        skipgram.words_to_study(vocab, skipgram.Config(words="sea,zzyzx"))


def test_labels_are_used_only_for_a_text_they_label():
    harbour = Vocab(tokenize(HARBOUR.read_text()))
    shipped = Vocab(tokenize(load_corpus()))
    assert skipgram.labelled_words(harbour)          # ordinary English has a few class words
    assert not skipgram.is_labelled(harbour)         # but they are not what it is about
    assert skipgram.is_labelled(shipped)
    assert skipgram.evaluate_embeddings(np.ones((len(harbour), 4)), harbour) == {}
    assert list(skipgram.words_to_study(harbour, skipgram.Config())) == [
        "most frequent content words"]


def test_charlm_measures_a_file_sorted_by_line_length_like_the_same_file_shuffled(tmp_path):
    # Sentences and single words (a names list): sorted by length, the last 10% of the lines
    # are the longest sentences, and holding those out measured 1.90 nats/char against 1.74
    # for the same file shuffled (9% apart); a random sample of lines measures both alike.
    rng = random.Random(0)
    text = load_corpus()
    lines = rng.sample(text.splitlines(), 2000) + rng.choices(sorted(set(tokenize(text))), k=2000)
    rng.shuffle(lines)
    by_length = tmp_path / "sorted.txt"
    by_length.write_text("\n".join(sorted(lines, key=len)) + "\n")
    shuffled = tmp_path / "shuffled.txt"
    shuffled.write_text("\n".join(lines) + "\n")
    losses = {}
    for path in (by_length, shuffled):
        config = charlm.Config(corpus=str(path), block_size=3, emb_dim=8, hidden=32, epochs=1,
                               batch_size=512, lr=1e-2, out=str(tmp_path / path.stem),
                               progress=False, samples=0)
        losses[path.stem] = charlm.run(config).metrics["val_loss"]
        train_text, val_text = charlm.check(config)
        held = [len(line) for line in val_text.splitlines()]
        assert len(held) == 400
        assert np.mean(held) == pytest.approx(np.mean([len(x) for x in lines]), rel=0.1)
    assert losses["sorted"] == pytest.approx(losses["shuffled"], rel=0.05)


def test_the_hold_out_is_seeded_and_keeps_every_line_once():
    text = "".join(f"line {i}\n" for i in range(50)) + "no newline at the end"
    a_train, a_val = charlm.split_text(text, 0.2, seed=3)
    assert (a_train, a_val) == charlm.split_text(text, 0.2, seed=3)
    assert a_val != charlm.split_text(text, 0.2, seed=4)[1]
    assert len(a_val.splitlines()) == 10
    assert sorted((a_train + a_val).splitlines()) == sorted(text.splitlines())


# -- the TensorBoard Embedding Projector's files ------------------------------------------------

def test_export_projector_writes_one_vector_and_one_label_per_line(tmp_path):
    E = np.arange(12, dtype=np.float32).reshape(4, 3) / 7
    paths = export_projector(tmp_path, E, ["<unk>", "the", "sea", "boats"])
    assert [Path(p).name for p in paths] == ["vectors.tsv", "metadata.tsv"]
    rows = (tmp_path / "vectors.tsv").read_text().splitlines()
    assert len(rows) == 4 and all(len(r.split("\t")) == 3 for r in rows)
    np.testing.assert_array_equal(np.loadtxt(tmp_path / "vectors.tsv", delimiter="\t")
                                  .astype(np.float32), E)             # float32 exactly
    # One column: no header line (the projector takes every line as a label).
    assert (tmp_path / "metadata.tsv").read_text() == "<unk>\nthe\nsea\nboats\n"


def test_export_projector_with_columns_writes_a_header(tmp_path):
    export_projector(tmp_path, np.eye(3), {"word": ["a", "b", "c"], "class": ["x", "", "y"]})
    assert (tmp_path / "metadata.tsv").read_text() == "word\tclass\na\tx\nb\t\nc\ty\n"


@pytest.mark.parametrize("vectors, labels, match", [
    (np.eye(3), ["a", "", "c"], "blank"),                    # the projector skips blank lines
    (np.eye(3), ["a", "b\tc", "d"], "tab"),
    (np.eye(3), ["a", "b\nc", "d"], "line break"),
    (np.eye(3), ["a", "b"], "3 vectors but 2 labels"),
    (np.ones((3, 1)), ["a", "b", "c"], "at least 2"),        # it rejects 1-d vectors
    (np.array([[1.0, np.nan], [0, 1]]), ["a", "b"], "NaN"),
    (np.eye(2), {"word": ["a", ""], "class": ["x", ""]}, "blank"),   # a line of one tab
])
def test_export_projector_refuses_what_the_projector_would_misread(tmp_path, vectors, labels,
                                                                    match):
    with pytest.raises(ValueError, match=match):
        export_projector(tmp_path, vectors, labels)
    assert list(tmp_path.iterdir()) == []
