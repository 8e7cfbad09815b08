"""The shipped corpus: reproducible, plain, and carrying the structure it promises."""
import string
from collections import Counter

import numpy as np
import pytest

from gradspace.train.corpus import ANALOGIES, RELATIONS, WORD_CLASSES, generate, load_corpus
from gradspace.train.data import Vocab, skipgram_pairs, tokenize
from gradspace.train.embeddings import analogy_accuracy, class_purity


@pytest.fixture(scope="module")
def text():
    return load_corpus()


def test_generator_is_deterministic_for_a_seed():
    assert generate.generate(300, seed=5) == generate.generate(300, seed=5)
    assert generate.generate(300, seed=5) != generate.generate(300, seed=6)
    assert generate.generate(0) == ""
    with pytest.raises(ValueError):
        generate.generate(-1)


def test_shipped_file_is_what_the_generator_makes(text):
    """Fails when the generator changed and its command (see generate.py) was not run."""
    assert text == generate.generate(generate.DEFAULT_SENTENCES, generate.DEFAULT_SEED)


def test_command_line_writes_the_file(tmp_path, capsys):
    out = tmp_path / "small.txt"
    generate.main(["--sentences", "25", "--seed", "1", "--out", str(out)])
    assert out.read_text() == generate.generate(25, seed=1)
    assert str(out) in capsys.readouterr().out


def test_load_corpus_reads_a_user_file(tmp_path):
    path = tmp_path / "mine.txt"
    path.write_text("my own words.\n")
    assert load_corpus(path) == "my own words.\n"
    assert load_corpus(str(path)) == "my own words.\n"


def test_text_is_small_plain_lowercase_ascii_one_sentence_a_line(text):
    assert len(text.encode()) < 1_000_000
    assert set(text) <= set(string.ascii_lowercase + " .\n")
    lines = text.split("\n")
    assert lines[-1] == "" and len(lines) - 1 == generate.DEFAULT_SENTENCES
    assert all(line.endswith(".") and line.count(".") == 1 for line in lines[:-1])
    assert "  " not in text and " ." not in text


def test_classes_are_disjoint_modest_and_all_in_the_text(text):
    counts = Counter(tokenize(text))
    words = [w for ws in WORD_CLASSES.values() for w in ws]
    assert len(words) == len(set(words))  # no word in two classes
    assert all(6 <= len(ws) <= 15 for ws in WORD_CLASSES.values())
    assert 100 <= len(counts) <= 200
    rare = {w: counts[w] for w in words if counts[w] < 100}
    assert not rare, f"class words too rare to learn: {rare}"


def test_relations_and_analogies_use_class_words():
    labelled = {w for ws in WORD_CLASSES.values() for w in ws}
    for name, pairs in RELATIONS.items():
        assert len(pairs) >= 4, name
        assert {w for pair in pairs for w in pair} <= labelled
        assert sum(1 for q in ANALOGIES if (q[0], q[3]) in pairs or (q[3], q[0]) in pairs) \
            == 2 * len(pairs) * (len(pairs) - 1)
    for a, b, c, d in ANALOGIES:
        assert len({a, b, c, d}) == 4


def ppmi_svd_embeddings(text, window=2, dim=32):
    """Count-based word vectors (Levy & Goldberg: what skip-gram factorises, in closed form):
    positive PMI of (word, context) counts with context^0.75 smoothing, reduced by SVD."""
    tokens = tokenize(text)
    vocab = Vocab(tokens)
    centers, contexts = skipgram_pairs(vocab.encode(tokens), window)
    V = len(vocab)
    C = np.bincount(centers * V + contexts, minlength=V * V).reshape(V, V).astype(float)
    p_word = C.sum(1) / C.sum()
    p_ctx = C.sum(0) ** 0.75
    p_ctx /= p_ctx.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        pmi = np.log(C / C.sum() / np.outer(p_word, p_ctx))
    ppmi = np.maximum(np.nan_to_num(pmi, nan=0.0, neginf=0.0), 0.0)
    U, S, _ = np.linalg.svd(ppmi)
    return U[:, :dim] * np.sqrt(S[:dim]), vocab


def test_co_occurrence_statistics_recover_the_classes_and_relations(text):
    """The property skip-gram training is tested for, checked here without any training, so
    a corpus that lost its structure fails here first."""
    E, vocab = ppmi_svd_embeddings(text)
    assert class_purity(E, vocab, WORD_CLASSES) >= 0.9
    for name, pairs in RELATIONS.items():
        quads = [q for q in ANALOGIES if (q[0], q[3]) in pairs or (q[3], q[0]) in pairs]
        assert analogy_accuracy(E, vocab, quads) >= 0.5, name


def test_shuffled_text_has_no_class_structure(text):
    """The check above can fail: with the words of the text shuffled, contexts are random."""
    words = tokenize(text)
    np.random.default_rng(0).shuffle(words)
    E, vocab = ppmi_svd_embeddings(" ".join(words))
    assert class_purity(E, vocab, WORD_CLASSES) < 0.5

