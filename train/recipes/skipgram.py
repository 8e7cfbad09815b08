"""Skip-gram word embeddings (word2vec): every word learns to predict the words around it.

    gradspace skipgram                     # negative sampling, on the shipped corpus
    gradspace skipgram --loss softmax      # the full softmax over the vocabulary
    gradspace skipgram --help

    from gradspace.train.recipes import skipgram           # in a notebook
    result = skipgram.run(skipgram.Config(epochs=2, progress=False))
    result.model.center.weight, result.vocab, result.history, result.metrics, result.files

Every pair (center word c, context word o) at most `window` words apart in one line of text
is an example. Each word has two vectors: u_c when it is the center (`model.center`, the
embedding we keep and study) and v_o when it is the context (`model.context`).

    softmax:   p(o | c) = exp(u_c . v_o) / sum_w exp(u_c . v_w)      loss = -log p(o | c)
    negative:  loss = -log sigmoid(u_c . v_o) - sum_{k=1..K} log sigmoid(-u_c . v_{n_k}),
               with K "negative" words n_k drawn from the unigram distribution ^ 0.75

The softmax touches all V output vectors per example; negative sampling only K + 1 of them,
which is what makes word2vec scale to large vocabularies. Words that occur in the same
contexts get pulled toward the same directions, so the classes of the shipped corpus
(animals, colours, capitals...) become clusters: the class purity printed at the end is the
fraction of labelled words whose nearest neighbour (by cosine) is of the same class.

Negative sampling is the default: both tables then get row-sparse gradients, and SparseAdam
moves only the rows a batch looked up. The full softmax's output layer is dense (Adam there).

Writes to --out (runs/skipgram-negative or runs/skipgram-softmax): checkpoint.npz,
vocab.json, loss.png, embeddings.png (the studied words projected on their first two principal
axes), neighbors.txt, and with --export-projector vectors.tsv and metadata.tsv.
"""
import dataclasses
import math
import sys
from dataclasses import dataclass, field

import numpy as np

import gradspace.nn.functional as F
from gradspace import autograd, nn
from gradspace.train.data import (
    ANALOGIES,
    STOP_WORDS,
    WORD_CLASSES,
    DataLoader,
    NegativeSampler,
    TensorDataset,
    Vocab,
    skipgram_pairs,
    tokenize,
)
from gradspace.train.embeddings import (
    analogy_accuracy,
    class_purity,
    cosine_similarity,
    export_projector,
    nearest_neighbors,
    plot_2d,
)
from gradspace.train.loop import History, fit
from gradspace.train.optim import Adam, SparseAdam
from gradspace.train.optim.lr_scheduler import CosineAnnealingLR
from gradspace.train.recipes import checks, common

# The --help text beside the flags: what the run shows and how to read it.
HELP = """
The words studied (mapped in embeddings.png, listed with their nearest neighbours in
neighbors.txt): on the shipped corpus, its labelled word classes, with their class purity and
analogy accuracy; on your own text (--corpus), its most frequent content words (common
function words like "the" or "which" skipped); with --words, the words you give.
--export-projector also writes vectors.tsv and metadata.tsv for the TensorBoard Embedding
Projector (https://projector.tensorflow.org: Load, then choose the two files).
"""

STUDIED = 60        # words mapped and listed when the text has no labels and --words is not given
# A small text gives few steps per epoch: by default the run takes at least MIN_STEPS steps
# (2,000: on a text of 2,400 words, 5 epochs of 18 steps leave every word pointing the same
# way, mean cosine 0.98 between words; 2,000 steps separate them, mean cosine 0.2).
MIN_EPOCHS, MAX_EPOCHS, MIN_STEPS = 5, 200, 2000
# The studied words have collapsed onto one direction when even the least similar tenth of
# their pairs have a cosine above this. (Measured 10th percentiles: 0.97-0.98 for runs that
# learned only word frequencies, with class purity 0.09 on the shipped corpus; 0.80 for a weak
# run, purity 0.45; -0.13 to 0.61 for sound ones.)
COLLAPSED = 0.9


@dataclass
class Config:
    corpus: str | None = None  # text file to train on; None: the corpus shipped with gradspace
    loss: str = "negative"     # "negative" (sampling, word2vec's default) or "softmax" (full)
    dim: int = 32              # embedding size d
    window: int = 2            # context words taken on each side of the center word
    min_count: int = 1         # rarer words become "<unk>"
    negatives: int = 5         # K, negative words per pair (loss="negative")
    epochs: int | None = None  # passes over all the pairs; None: default_epochs (5 or more)
    batch_size: int = 512      # pairs per step
    lr: float = 0.01           # (Sparse)Adam's learning rate, cosine-annealed to 0 over the epochs
    seed: int = 0              # seeds the weights, the shuffles and the negative samples
    out: str | None = None     # run folder for checkpoint and pictures; None: runs/skipgram-<loss>
    resume: bool = False       # continue from <out>/checkpoint.npz
    progress: bool = True      # show a progress bar
    neighbors: int = 5         # neighbours listed per word in neighbors.txt
    words: str | None = None   # "a,b,c": the words to map and list; None: chosen from the text
    export_projector: bool = False  # also write vectors.tsv and metadata.tsv (TensorBoard)


@dataclass
class Result:
    model: "SkipGram"
    vocab: Vocab
    history: History
    metrics: dict = field(default_factory=dict)   # class_purity, analogy_accuracy, ...
    files: dict = field(default_factory=dict)     # name -> Path of every file written
    words: dict = field(default_factory=dict)     # {group: words} mapped and listed


class SkipGram(nn.Module):
    """Two tables of word vectors: `center` (u, kept) and `context` (v, the output side)."""

    def __init__(self, vocab_size, dim, loss="softmax"):
        super().__init__()
        self.center = nn.Embedding(vocab_size, dim)                    # (V, d)
        if loss == "softmax":    # all of v at once: a Linear's weight (V, d) gives u . v_w
            self.context = nn.Linear(dim, vocab_size, bias=False)
        else:                    # only K + 1 rows of v per pair: a second embedding table
            self.context = nn.Embedding(vocab_size, dim)
        # word2vec's start: small random u, zero v. (From nn.Embedding's N(0, 1) the few
        # thousand small Adam steps of a short run could not wash out the random part.)
        nn.init.uniform_(self.center.weight, -0.5 / dim, 0.5 / dim)
        nn.init.zeros_(self.context.weight)

    def forward(self, centers):
        """Logits over every context word: (B,) -> (B, V)  (softmax loss)."""
        return self.context(self.center(centers))

    def scores(self, centers, words):
        """u_c . v_w for K words per center: (B,), (B, K) -> (B, K)  (negative sampling)."""
        u = self.center(centers)                      # (B, d)
        v = self.context(words)                       # (B, K, d)
        return (v * u.unsqueeze(1)).sum(-1)           # (B, K)


def make_pairs(text, window, min_count):
    """Tokenize line by line; the vocabulary and every (center, context) pair within a line."""
    lines = [tokenize(line) for line in text.splitlines()]
    tokens = [t for line in lines for t in line]
    vocab = Vocab(tokens, min_count=min_count)
    ids = vocab.encode(tokens)                                          # (n,)
    line_of = np.repeat(np.arange(len(lines)), [len(line) for line in lines])
    centers, contexts = skipgram_pairs(ids, window)                     # (P,), (P,)
    line_c, line_o = skipgram_pairs(line_of, window)                    # same order
    same_line = line_c == line_o                 # a pair never spans two lines (sentences)
    return vocab, len(tokens), centers[same_line], contexts[same_line]


def softmax_step(model, batch):
    centers, contexts = batch                         # (B,), (B,)
    return F.cross_entropy(model(centers), contexts)  # logits (B, V)


def negative_sampling_step(sampler, k):
    def step(model, batch):
        centers, contexts = batch                                        # (B,), (B,)
        B = len(centers)
        words = np.concatenate([contexts.data[:, None], sampler.sample((B, k))], 1)  # (B, 1+K)
        labels = np.zeros((B, 1 + k), dtype=np.float32)
        labels[:, 0] = 1                              # the true context; the K others are noise
        logits = model.scores(centers, words)                            # (B, 1+K)
        return F.binary_cross_entropy_with_logits(logits, labels, reduction="sum") * (1 / B)
    return step


def build_model(config, vocab):
    """The untrained model of a run with this config: the same initial weights, every time."""
    autograd.manual_seed(config.seed)
    return SkipGram(len(vocab), config.dim, config.loss)


def default_out(config):
    return f"runs/skipgram-{config.loss}"


def check(config):
    """Every setting (ConfigError naming the flag) and the text, before any file is written;
    returns what the run needs: (vocab, token count, centers, contexts, {group: words})."""
    checks.common(config)
    checks.integers(config, 1, "dim", "window", "min_count", "negatives", "neighbors")
    if config.loss not in ("softmax", "negative"):
        checks.fail("loss", config.loss, "must be softmax or negative")
    text = checks.read_corpus(config.corpus)
    vocab, n_tokens, centers, contexts = make_pairs(text, config.window, config.min_count)
    if len(centers) == 0 or len(vocab) < 3:
        checks.fail("corpus", config.corpus, f"gives {len(vocab) - 1} distinct words and "
                    f"{len(centers)} word pairs: skip-gram needs lines of at least 2 words and "
                    f"at least 2 distinct words seen --min-count {config.min_count} times")
    return vocab, n_tokens, centers, contexts, words_to_study(vocab, config)


def default_epochs(pairs, batch_size):
    """5 epochs, or more (at most 200) when that is fewer than 2,000 steps."""
    steps_per_epoch = math.ceil(pairs / batch_size)
    return min(max(MIN_EPOCHS, math.ceil(MIN_STEPS / steps_per_epoch)), MAX_EPOCHS)


def run(config, callbacks=()):
    vocab, n_tokens, centers, contexts, words = check(config)     # before any file is written
    config = dataclasses.replace(
        config, epochs=config.epochs or default_epochs(len(centers), config.batch_size))
    folder = common.RunFolder(config.out or default_out(config), outputs(config)).claim()
    with folder.interrupt_report():
        return train(config, folder, vocab, n_tokens, centers, contexts, words, callbacks)


def outputs(config):
    names = [common.CHECKPOINT, "vocab.json", "loss.png", "embeddings.png", "neighbors.txt"]
    return names + (["vectors.tsv", "metadata.tsv"] if config.export_projector else [])


def train(config, folder, vocab, n_tokens, centers, contexts, words, callbacks):
    # -- data: (center, context) pairs --------------------------------------------------------
    loader = DataLoader(TensorDataset(centers, contexts), batch_size=config.batch_size,
                        shuffle=True, seed=config.seed)
    print(f"skipgram: {n_tokens:,} tokens, {len(vocab)} words, {len(centers):,} pairs "
          f"(window {config.window}), {config.loss} loss, d = {config.dim}")

    # -- model, optimizer, schedule -----------------------------------------------------------
    model = build_model(config, vocab)
    # Negative sampling makes both tables row-sparse: SparseAdam moves (and decays the
    # moments of) only the rows a batch looked up. The full softmax's context layer has a
    # dense gradient, which SparseAdam refuses as PyTorch's does: Adam there.
    optimizer = (SparseAdam if config.loss == "negative" else Adam)(model.parameters(),
                                                                    lr=config.lr)
    generators = {"loader": loader.generator}
    step = softmax_step
    if config.loss == "negative":
        sampler = NegativeSampler(vocab.counts, seed=config.seed + 1)
        generators["negatives"] = sampler.rng
        step = negative_sampling_step(sampler, config.negatives)

    # -- train: checkpoint every epoch and on Ctrl-C; --resume picks up from the last one -----
    history = History()
    ckpt = common.Checkpointer(folder, model, optimizer, history, config, generators)
    start = ckpt.resume(config.epochs) if config.resume else 0
    scheduler = CosineAnnealingLR(optimizer, T_max=config.epochs, last_epoch=start - 1)
    with ckpt.training():        # Ctrl-C saves; a loss that blows up stops the run
        fit(model, None, optimizer, loader, epochs=config.epochs, scheduler=scheduler,
            step_fn=step, progress=config.progress,
            callbacks=[ckpt, common.stop_if_diverging, *callbacks], start_epoch=start,
            history=history)

    # -- look at the embedding space ----------------------------------------------------------
    E = model.center.weight.data                                         # (V, d)
    metrics = evaluate_embeddings(E, vocab)
    vocab.save(folder.file("vocab.json"))
    common.save_loss_plot(history, folder, "loss.png", f"skip-gram ({config.loss})")
    plot_embeddings(E, vocab, words, folder)
    write_neighbors(E, vocab, words, folder, config.neighbors, metrics)
    if config.export_projector:
        export_projector(folder.path, E, projector_labels(vocab))
    files = {name.split(".")[0]: folder.file(name) for name in outputs(config)}
    report(E, vocab, words, history, metrics, folder.path, files)
    common.check_learned(history, config.lr, Config.lr)
    check_separated(E, vocab, words)
    return Result(model, vocab, history, metrics, files, words)


def labelled_words(vocab):
    """{class: words of that class in the vocabulary}, for the classes the vocabulary has."""
    found = {name: [w for w in words if w in vocab] for name, words in WORD_CLASSES.items()}
    return {name: words for name, words in found.items() if words}


def content_words(vocab, n=STUDIED):
    """The n most frequent words that are not stop words (all words if every one is)."""
    words = [w for w in vocab.itos[1:] if w not in STOP_WORDS]
    return (words or vocab.itos[1:])[:n]


def is_labelled(vocab):
    """Whether the shipped corpus's word classes label this text: at least half of its most
    frequent content words have a class. (Ordinary English has a few class words, "red" or
    "two", but not most of its frequent ones; the shipped corpus is made of them.)"""
    labelled = {w for words in WORD_CLASSES.values() for w in words}
    frequent = content_words(vocab)
    return sum(w in labelled for w in frequent) >= len(frequent) / 2


def words_to_study(vocab, config):
    """{group: words} to map and list: --words, else the word classes of a labelled text,
    else its most frequent content words. ConfigError for a --words word not in the text."""
    if config.words:
        given = [w.strip().lower() for w in config.words.split(",") if w.strip()]
        unknown = [w for w in given if w not in vocab]
        if unknown or not given:
            checks.fail("words", repr(config.words),
                        f"{', '.join(unknown) or 'no word'} not in the vocabulary of the corpus "
                        f"({len(vocab) - 1} words seen at least --min-count "
                        f"{config.min_count} times)")
        return {"your words": list(dict.fromkeys(given))}
    if is_labelled(vocab):
        return labelled_words(vocab)
    return {"most frequent content words": content_words(vocab)}


def check_separated(E, vocab, words):
    """TrainingFailed when the studied words all point the same way (nothing told them apart:
    every nearest neighbour would be at cosine 1.00)."""
    ids = [vocab[w] for group in words.values() for w in group]
    if len(ids) < 2:
        return
    C = cosine_similarity(E[ids])
    low = np.percentile(C[~np.eye(len(ids), dtype=bool)], 10)
    if low > COLLAPSED:
        raise common.TrainingFailed(
            f"the embeddings did not separate the words: 90% of the pairs of the {len(ids)} "
            f"studied words have a cosine above {low:.2f}, so their neighbours mean nothing. "
            f"Train longer: more --epochs or a smaller --batch-size.")


def evaluate_embeddings(E, vocab):
    """Class purity and analogy accuracy, when the text is labelled (else no metrics)."""
    metrics = {}
    classes = labelled_words(vocab)
    if not is_labelled(vocab) or len(classes) < 2:
        return metrics
    metrics["class_purity"] = class_purity(E, vocab, classes)
    metrics["labelled_words"] = sum(len(words) for words in classes.values())
    quads = [q for q in ANALOGIES if all(w in vocab for w in q)]
    if quads:
        metrics["analogy_accuracy"] = analogy_accuracy(E, vocab, quads)
        metrics["analogies"] = len(quads)
    return metrics


def plot_embeddings(E, vocab, words, folder):
    """The studied words on the first two principal axes, one colour per group."""
    fig = common.new_figure(10, 8)
    plot_2d(E, vocab, words, ax=fig.add_subplot(),
            title="skip-gram embeddings: first two principal components")
    common.save_figure(fig, folder, "embeddings.png", dpi=130)


def write_neighbors(E, vocab, words, folder, k, metrics):
    """neighbors.txt: per group, one line per word: the word, then its k nearest neighbours
    each with its cosine similarity."""
    lines = ["# nearest neighbours by cosine similarity of the center embeddings"]
    if "class_purity" in metrics:
        lines.append(f"# class purity {metrics['class_purity']:.3f} over "
                     f"{metrics['labelled_words']} labelled words")
    for name, group in words.items():
        lines.append(f"\n[{name}]")
        for w in group:
            near = nearest_neighbors(E, vocab, w, k=k)
            lines.append(f"{w:<11} " + "  ".join(f"{n} {c:.2f}" for n, c in near))
    with folder.write("neighbors.txt", "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def projector_labels(vocab):
    """metadata.tsv's columns: the word, and its class when the text is labelled."""
    if not is_labelled(vocab):
        return vocab.itos
    label = {w: name for name, words in WORD_CLASSES.items() for w in words}
    return {"word": vocab.itos, "class": [label.get(w, "") for w in vocab.itos]}


def report(E, vocab, words, history, metrics, out, files):
    if history.train_losses:
        print(f"final train loss {history.train_losses[-1]:.4f} after {history.epochs} epochs")
    if "class_purity" in metrics:
        hits = round(metrics["class_purity"] * metrics["labelled_words"])
        print(f"class purity: {metrics['class_purity']:.3f} (the nearest neighbour of {hits} "
              f"of {metrics['labelled_words']} labelled words is of the same class)")
    if "analogy_accuracy" in metrics:
        print(f"analogies a - b + c = d: {metrics['analogy_accuracy']:.1%} of "
              f"{metrics['analogies']} right")
    shown = [w for w in ("cat", "paris", "monday") if w in vocab] if metrics else []
    for word in shown or [w for group in words.values() for w in group][:3]:
        near = ", ".join(n for n, _ in nearest_neighbors(E, vocab, word, k=4))
        print(f"  {word} -> {near}")
    count = sum(len(group) for group in words.values())
    print(f"{count} words mapped in embeddings.png and listed in neighbors.txt")
    print(f"wrote {out}/: " + "  ".join(p.name for p in files.values()))


def add_arguments(parser):
    from gradspace.train.cli import add_common_arguments
    config = Config()
    add_common_arguments(parser, config, "runs/skipgram-<loss>")
    parser.add_argument("--loss", choices=["softmax", "negative"], default=config.loss,
                        help=f"negative sampling (SparseAdam) or the full softmax (Adam) "
                             f"(default {config.loss})")
    parser.add_argument("--dim", type=int, default=config.dim,
                        help=f"embedding size (default {config.dim})")
    parser.add_argument("--window", type=int, default=config.window,
                        help=f"context words on each side (default {config.window})")
    parser.add_argument("--min-count", type=int, default=config.min_count,
                        help=f"rarer words become <unk> (default {config.min_count})")
    parser.add_argument("--words", metavar="A,B,C", default=config.words,
                        help="the words to map and list with their neighbours (default: the "
                             "word classes of the shipped corpus, or the most frequent content "
                             "words of your text)")
    parser.add_argument("--export-projector", action="store_true",
                        help="also write vectors.tsv and metadata.tsv for the TensorBoard "
                             "Embedding Projector")


def main(argv=None):
    from gradspace.train.cli import main_for
    return main_for(sys.modules[__name__], argv, "gradspace skipgram")
