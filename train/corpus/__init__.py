"""The corpus shipped with gradspace, and what is known about its structure.

`load_corpus()` returns the shipped text (made by `python -m gradspace.train.corpus.generate`);
`WORD_CLASSES`, `RELATIONS` and `ANALOGIES` say what an embedding of it should recover.
"""

from importlib import resources

from gradspace.train.corpus.lexicon import ANALOGIES, RELATIONS, WORD_CLASSES

__all__ = ["ANALOGIES", "RELATIONS", "WORD_CLASSES", "load_corpus"]


def load_corpus(path=None, encoding="utf-8"):
    """The text of `path`, or of the corpus shipped inside the package when `path` is None."""
    if path is None:
        return resources.files(__package__).joinpath("default.txt").read_text(encoding="ascii")
    with open(path, encoding=encoding) as f:
        return f.read()
