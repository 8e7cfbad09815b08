"""tokenize, Vocab, skipgram_pairs, NegativeSampler, context_windows."""
import json
import os

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gradspace.train.data import NegativeSampler, Vocab, context_windows, skipgram_pairs, tokenize

id_arrays = st.lists(st.integers(0, 9), max_size=40).map(lambda xs: np.array(xs, dtype=np.int64))
token_lists = st.lists(st.sampled_from(["a", "b", "c", "dog", "cat", "x y", "\n"]), max_size=60)


# -- tokenize --------------------------------------------------------------------------------

def test_words_are_lowercase_letter_runs_with_inner_apostrophes():
    text = "Don't STOP, it's 3 o'clock!\n'Quoted' word_s ... Café naïve"
    assert tokenize(text) == ["don't", "stop", "it's", "o'clock", "quoted", "word", "s",
                              "café", "naïve"]


def test_chars_keep_case_spaces_and_newlines():
    assert tokenize("Ab c.\nd", level="char") == ["A", "b", " ", "c", ".", "\n", "d"]


def test_unknown_level_raises():
    with pytest.raises(ValueError, match="level"):
        tokenize("abc", level="byte")


# -- Vocab -----------------------------------------------------------------------------------

def test_ids_by_descending_count_then_alphabetical():
    vocab = Vocab(["b", "a", "c", "a", "b", "a", "d"])
    assert vocab.itos == ["<unk>", "a", "b", "c", "d"]
    assert vocab.counts.tolist() == [0, 3, 2, 1, 1]
    assert vocab.counts.dtype == np.int64
    assert vocab.stoi == {w: i for i, w in enumerate(vocab.itos)}


def test_min_count_folds_rare_tokens_into_unk():
    vocab = Vocab(["b", "a", "c", "a", "b", "a", "d"], min_count=2)
    assert vocab.itos == ["<unk>", "a", "b"]
    assert vocab.counts.tolist() == [2, 3, 2]  # c and d became <unk>
    assert "c" not in vocab and "a" in vocab
    assert vocab.encode(["a", "c", "zebra"]).tolist() == [1, 0, 0]
    assert vocab["a"] == 1 and vocab["zebra"] == 0


def test_specials_follow_unk_whatever_their_count():
    vocab = Vocab(list("aab.") + ["."] * 5, min_count=2, specials=[".", "<pad>"])
    assert vocab.itos[:3] == ["<unk>", ".", "<pad>"]
    assert vocab.counts[1] == 6 and vocab.counts[2] == 0
    assert vocab.itos[3:] == ["a"]


def test_bad_min_count_and_repeated_specials_raise():
    with pytest.raises(ValueError):
        Vocab(["a"], min_count=0)
    with pytest.raises(ValueError):
        Vocab(["a"], specials=["<pad>", "<pad>"])


@given(token_lists)
def test_decode_inverts_encode(tokens):
    vocab = Vocab(tokens)
    ids = vocab.encode(tokens)
    assert ids.dtype == np.int64 and ids.shape == (len(tokens),)
    assert vocab.decode(ids) == tokens
    assert len(vocab) == len(set(tokens)) + 1


@given(token_lists, st.integers(1, 4))
def test_order_and_counts_match_a_recount(tokens, min_count):
    vocab = Vocab(tokens, min_count=min_count)
    kept = vocab.itos[1:]
    for word, count in zip(kept, vocab.counts[1:]):
        assert count == tokens.count(word) >= min_count
    assert vocab.counts.sum() == len(tokens)  # rare ones are in counts[0]
    keys = [(-tokens.count(w), w) for w in kept]
    assert keys == sorted(keys)


def test_encode_takes_a_string_as_characters_and_decode_checks_range():
    vocab = Vocab(tokenize("hello\n", level="char"))
    assert vocab.decode(vocab.encode("hello\n")) == list("hello\n")
    with pytest.raises(IndexError, match="7"):
        vocab.decode([1, 7])
    with pytest.raises(IndexError):
        vocab.decode([-1])


def test_save_load_round_trip(tmp_path):
    vocab = Vocab(["the", "cat", "saw", "the", "dog", "and", "the", "cat"], min_count=2,
                  specials=["<pad>"])
    path = tmp_path / "vocab.json"
    vocab.save(path)
    loaded = Vocab.load(path)
    assert loaded.itos == vocab.itos and loaded.stoi == vocab.stoi
    np.testing.assert_array_equal(loaded.counts, vocab.counts)
    assert loaded.encode(["cat", "dog"]).tolist() == vocab.encode(["cat", "dog"]).tolist()
    assert os.listdir(tmp_path) == ["vocab.json"]  # no temporary file left behind


def test_failed_save_leaves_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "vocab.json"
    Vocab(["old"]).save(path)
    before = path.read_text()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(json, "dump", crash)
    with pytest.raises(OSError, match="disk full"):
        Vocab(["new"]).save(path)
    assert path.read_text() == before
    assert os.listdir(tmp_path) == ["vocab.json"]


@pytest.mark.parametrize("content", ["not json", '{"format": "other"}', "[1, 2]",
                                     ('{"format": "gradspace.vocab", "itos": ["a"], '
                                      '"counts": [1, 2]}'),
                                     '{"format": "gradspace.vocab", "counts": [1]}'])
def test_load_refuses_foreign_files(tmp_path, content):
    path = tmp_path / "v.json"
    path.write_text(content)
    with pytest.raises(ValueError):
        Vocab.load(path)


# -- skipgram_pairs --------------------------------------------------------------------------

def naive_pairs(ids, window):
    """The documented order: offsets -window..-1, 1..window, text order within an offset."""
    pairs = []
    for o in [*range(-window, 0), *range(1, window + 1)]:
        for i in range(len(ids)):
            if 0 <= i + o < len(ids):
                pairs.append((ids[i], ids[i + o]))
    return pairs


@given(id_arrays, st.integers(1, 6))
def test_skipgram_pairs_equal_a_double_loop(ids, window):
    centers, contexts = skipgram_pairs(ids, window)
    assert centers.dtype == contexts.dtype == np.int64
    assert list(zip(centers.tolist(), contexts.tolist())) == naive_pairs(ids.tolist(), window)


def test_skipgram_pairs_by_hand():
    centers, contexts = skipgram_pairs(np.array([10, 11, 12]), window=1)
    assert centers.tolist() == [11, 12, 10, 11]
    assert contexts.tolist() == [10, 11, 11, 12]


@pytest.mark.parametrize("window", [0, -1, 1.5])
def test_skipgram_bad_window_raises(window):
    with pytest.raises(ValueError, match="window"):
        skipgram_pairs(np.arange(5), window)


def test_skipgram_needs_1d_integer_ids():
    with pytest.raises(ValueError):
        skipgram_pairs(np.zeros((2, 3), dtype=np.int64), 1)
    with pytest.raises(ValueError):
        skipgram_pairs(np.array([0.5, 1.5]), 1)


# -- NegativeSampler -------------------------------------------------------------------------

def test_sample_frequencies_follow_unigram_to_the_three_quarters():
    counts = np.array([0, 1, 10, 100, 1000, 5])
    sampler = NegativeSampler(counts, seed=0)
    expected = np.array([0, 1, 10 ** 0.75, 100 ** 0.75, 1000 ** 0.75, 5 ** 0.75])
    expected /= expected.sum()
    np.testing.assert_allclose(sampler.probs, expected, rtol=1e-12)
    n = 400_000
    draws = sampler.sample((n // 4, 4))
    assert draws.shape == (n // 4, 4) and draws.dtype == np.int64
    freq = np.bincount(draws.ravel(), minlength=len(counts)) / n
    # The standard error of a frequency is <= 0.5 / sqrt(n) = 0.0008; 0.005 is six of them.
    np.testing.assert_allclose(freq, expected, atol=0.005)
    assert freq[0] == 0  # a count of zero is never drawn


def test_power_one_is_the_unigram_and_power_zero_is_uniform_over_seen_words():
    counts = np.array([3, 0, 1])
    np.testing.assert_allclose(NegativeSampler(counts, power=1.0).probs, [0.75, 0, 0.25])
    np.testing.assert_allclose(NegativeSampler(counts, power=0.0).probs, [0.5, 0, 0.5])


def test_sampler_is_reproducible_with_a_seed():
    a = NegativeSampler([5, 3, 2, 7], seed=1)
    b = NegativeSampler([5, 3, 2, 7], seed=1)
    c = NegativeSampler([5, 3, 2, 7], seed=2)
    first, second = a.sample(100), a.sample(100)
    assert np.array_equal(first, b.sample(100)) and np.array_equal(second, b.sample(100))
    assert not np.array_equal(first, second)
    assert not np.array_equal(first, c.sample(100))
    assert a.sample(7).shape == (7,)


@pytest.mark.parametrize("counts", [[], [0, 0], [1, -1], [[1, 2]], [1, np.nan]])
def test_sampler_refuses_bad_counts(counts):
    with pytest.raises(ValueError):
        NegativeSampler(counts)


# -- context_windows -------------------------------------------------------------------------

def naive_windows(ids, block_size, pad_id=None):
    seq = ([pad_id] * block_size if pad_id is not None else []) + list(ids)
    X = [seq[i:i + block_size] for i in range(len(seq) - block_size)]
    Y = [seq[i + block_size] for i in range(len(seq) - block_size)]
    return X, Y


@given(id_arrays, st.integers(1, 6), st.sampled_from([None, 0, 99]))
def test_context_windows_equal_a_loop(ids, block_size, pad_id):
    X, Y = context_windows(ids, block_size, pad_id=pad_id)
    X_ref, Y_ref = naive_windows(ids.tolist(), block_size, pad_id)
    assert X.shape == (len(X_ref), block_size) and Y.shape == (len(Y_ref),)
    assert X.tolist() == X_ref and Y.tolist() == Y_ref
    if pad_id is not None:
        assert Y.tolist() == ids.tolist()  # every token is a target exactly once


def test_context_windows_are_views_not_copies():
    ids = np.arange(1000, dtype=np.int64)
    X, _ = context_windows(ids, 8)
    assert np.shares_memory(X, ids) and not X.flags.writeable
    assert X[[3, 5]].flags.writeable  # what a loader takes out is a fresh array


def test_context_windows_bad_block_size_raises():
    with pytest.raises(ValueError, match="block_size"):
        context_windows(np.arange(5), 0)
