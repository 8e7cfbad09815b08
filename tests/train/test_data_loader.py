"""Dataset, TensorDataset, DataLoader."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gradspace.autograd import Tensor
from gradspace.train.data import DataLoader, Dataset, TensorDataset


def indices_of(loader):
    """The example indices of one epoch, batch by batch (the dataset holds arange(n))."""
    return [batch[0].data.tolist() for batch in loader]


@given(st.integers(0, 60), st.integers(1, 25), st.booleans(), st.booleans(),
       st.integers(0, 2 ** 32 - 1))
def test_every_example_once_per_epoch(n, batch_size, shuffle, drop_last, seed):
    ds = TensorDataset(np.arange(n), np.arange(n) * 10.0)
    loader = DataLoader(ds, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last,
                        seed=seed)
    for _ in range(2):
        batches = list(loader)
        assert len(batches) == len(loader)
        seen = [i for x, _ in batches for i in x.data.tolist()]
        full = n - n % batch_size if drop_last else n
        assert len(seen) == full and len(set(seen)) == full and set(seen) <= set(range(n))
        assert all(len(x.data) == batch_size for x, _ in batches[:-1])
        if drop_last and batches:
            assert len(batches[-1][0].data) == batch_size
        for x, y in batches:  # the rows of both tensors stay aligned
            np.testing.assert_array_equal(y.data, x.data * 10.0)
        if not shuffle:
            assert seen == list(range(full))


def test_len_is_the_number_of_batches():
    ds = TensorDataset(np.zeros((10, 3)))
    assert len(DataLoader(ds, batch_size=3)) == 4
    assert len(DataLoader(ds, batch_size=3, drop_last=True)) == 3
    assert len(DataLoader(ds, batch_size=10, drop_last=True)) == 1
    assert len(DataLoader(ds, batch_size=11, drop_last=True)) == 0


def test_seed_fixes_every_epoch_and_epochs_differ():
    ds = TensorDataset(np.arange(50))
    a = DataLoader(ds, batch_size=7, shuffle=True, seed=3)
    b = DataLoader(ds, batch_size=7, shuffle=True, seed=3)
    epochs_a = [indices_of(a) for _ in range(3)]
    assert epochs_a == [indices_of(b) for _ in range(3)]
    assert epochs_a[0] != epochs_a[1] != epochs_a[2]
    assert indices_of(DataLoader(ds, batch_size=7, shuffle=True, seed=4)) != epochs_a[0]


def test_batches_are_tensors_that_keep_the_dtype():
    X = np.arange(12, dtype=np.float32).reshape(6, 2)
    y = np.arange(6)
    xb, yb = next(iter(DataLoader(TensorDataset(Tensor(X), y), batch_size=4)))
    assert isinstance(xb, Tensor) and isinstance(yb, Tensor)
    assert xb.data.dtype == np.float32 and yb.data.dtype == np.int64
    assert xb.shape == (4, 2) and yb.shape == (4,)
    assert not xb.requires_grad


def test_tensor_dataset_indexing():
    ds = TensorDataset(np.arange(10).reshape(5, 2), np.arange(5) * 1.5)
    assert len(ds) == 5
    x, y = ds[2]
    assert x.data.tolist() == [4, 5] and y.item() == 3.0
    xb, yb = ds[np.array([4, 0, 4])]
    assert xb.data.tolist() == [[8, 9], [0, 1], [8, 9]] and yb.data.tolist() == [6.0, 0.0, 6.0]


def test_tensor_dataset_lengths_must_agree():
    with pytest.raises(ValueError, match=r"\[3, 4\]"):
        TensorDataset(np.zeros(3), np.zeros((4, 2)))
    with pytest.raises(ValueError):
        TensorDataset()
    with pytest.raises(ValueError):
        TensorDataset(np.float64(1.0))


def test_a_batch_is_one_vectorised_fetch():
    calls = []

    class Batched(TensorDataset):

        def __getitem__(self, index):
            if np.ndim(index) == 0:
                raise AssertionError("fetched one example on the hot path")
            return super().__getitem__(index)

        def get_batch(self, indices):
            calls.append(len(indices))
            return super().get_batch(indices)

    ds = Batched(np.arange(100))
    batches = list(DataLoader(ds, batch_size=32, shuffle=True, seed=0))
    assert calls == [32, 32, 32, 4] and len(batches) == 4


class Squares(Dataset):
    """A generic dataset: no get_batch, so the loader reads item by item."""

    def __len__(self):
        return 7

    def __getitem__(self, i):
        return np.array([i, i * i], dtype=np.float32), i % 2


class Records(Squares):
    def __getitem__(self, i):
        return {"x": float(i), "pair": (i, Tensor(np.ones(2) * i))}


def test_generic_dataset_items_are_stacked():
    batches = list(DataLoader(Squares(), batch_size=3))
    assert [len(b[0].data) for b in batches] == [3, 3, 1]
    x, y = batches[1]
    assert isinstance(x, Tensor) and x.data.dtype == np.float32
    assert x.data.tolist() == [[3, 9], [4, 16], [5, 25]] and y.data.tolist() == [1, 0, 1]


def test_generic_dataset_dicts_and_nesting_keep_their_structure():
    batch = next(iter(DataLoader(Records(), batch_size=2, shuffle=True, seed=0)))
    assert set(batch) == {"x", "pair"}
    i = batch["pair"][0].data
    np.testing.assert_array_equal(batch["x"].data, i.astype(float))
    np.testing.assert_array_equal(batch["pair"][1].data, np.ones((2, 2)) * i[:, None])


def test_dataset_is_abstract():
    with pytest.raises(TypeError):
        Dataset()


@pytest.mark.parametrize("kwargs", [
    {"batch_size": 0}, {"batch_size": -2}, {"batch_size": 2.5}, {"batch_size": True},
    {"batch_size": None}, {"shuffle": "yes"}, {"drop_last": 1},
])
def test_bad_arguments_raise(kwargs):
    with pytest.raises(ValueError):
        DataLoader(TensorDataset(np.arange(4)), **kwargs)
