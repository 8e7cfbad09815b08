"""A character language model: a Bengio-style MLP that predicts the next character.

    gradspace charlm                       # on the shipped corpus
    gradspace charlm --block-size 5 --hidden 100
    gradspace charlm --help

    from gradspace.train.recipes import charlm             # in a notebook
    result = charlm.run(charlm.Config(epochs=1, progress=False))
    print(charlm.sample(result.model, result.vocab, 200, temperature=0.8, seed=0))

The model (Bengio et al., 2003, "A Neural Probabilistic Language Model", on characters):

    x = [C[c_{t-T}], ..., C[c_{t-1}]]          the last T = block_size characters, embedded
                                               by the table C (V, e) and concatenated: (T e,)
    h = tanh(W_h x + b_h)                      (hidden,)
    p(c_t | context) = softmax(W_o h + b_o)    (V,)        loss = -log p(c_t | context)

A text is a sequence of lines; the first characters of the text see a context of newlines,
which is also where `sample` starts, so samples begin like the text's lines do. A seeded
random sample of `val_fraction` of the lines is held out (not the last lines: in a file sorted
by length, date or frequency they would measure a different distribution, not the model): the
validation loss, in nats per character, is compared with log V (a uniform guess over the V
characters) and with a unigram model (each character's frequency, no context), so "the model
learned something" is a number.

Writes to --out (runs/charlm): checkpoint.npz, vocab.json, loss.png, samples.txt, and with
--export-projector vectors.tsv and metadata.tsv (the character embeddings).
"""
import math
import sys
from dataclasses import dataclass, field

import numpy as np

import gradspace.nn.functional as F
from gradspace import autograd, nn
from gradspace.autograd import Tensor, no_grad
from gradspace.train.data import (
    DataLoader,
    TensorDataset,
    Vocab,
    context_windows,
    tokenize,
)
from gradspace.train.embeddings import export_projector
from gradspace.train.loop import History, fit
from gradspace.train.optim import Adam
from gradspace.train.optim.lr_scheduler import CosineAnnealingLR
from gradspace.train.recipes import checks, common

# The --help text beside the flags: what the run shows and how to read it.
HELP = """
Validation: a random sample of --val-fraction of the lines (drawn with --seed, so the same
lines every run) is held out, so a file sorted by length, date or frequency is measured
fairly. The validation loss is compared with a uniform guess (log V) and a unigram model.
"""


@dataclass
class Config:
    corpus: str | None = None  # text file to train on; None: the corpus shipped with gradspace
    block_size: int = 8        # T, characters of context the model sees
    emb_dim: int = 16          # e, size of each character's embedding
    hidden: int = 200          # units of the tanh hidden layer
    epochs: int = 3            # passes over the training characters
    batch_size: int = 256      # examples (context, next character) per step
    lr: float = 5e-3           # Adam's learning rate, cosine-annealed to 0 over the epochs
    val_fraction: float = 0.1  # fraction of the lines held out for validation: a seeded sample
    seed: int = 0              # seeds the weights, the shuffles and the samples
    out: str | None = None     # run folder for checkpoint, loss curve, samples; None: runs/charlm
    resume: bool = False       # continue from <out>/checkpoint.npz
    progress: bool = True      # show a progress bar
    samples: int = 5           # samples written to samples.txt
    sample_length: int = 300   # characters per sample
    temperature: float = 0.8   # < 1: safer, more typical samples; > 1: wilder
    export_projector: bool = False  # also write vectors.tsv and metadata.tsv (TensorBoard)


@dataclass
class Result:
    model: "CharMLP"
    vocab: Vocab
    history: History
    metrics: dict = field(default_factory=dict)   # val_loss, log_vocab, unigram_loss
    files: dict = field(default_factory=dict)     # name -> Path of every file written
    samples: list = field(default_factory=list)


class CharMLP(nn.Module):
    """Embed the last block_size characters, concatenate, one tanh layer, next-char logits."""

    def __init__(self, vocab_size, block_size, emb_dim, hidden):
        super().__init__()
        self.block_size = block_size
        self.embed = nn.Embedding(vocab_size, emb_dim)              # C: (V, e)
        self.hidden = nn.Linear(block_size * emb_dim, hidden)       # W_h: (hidden, T e)
        self.out = nn.Linear(hidden, vocab_size)                    # W_o: (V, hidden)

    def forward(self, context):
        x = self.embed(context).flatten(1)     # (B, T) ids -> (B, T, e) -> (B, T e)
        h = self.hidden(x).tanh()              # (B, hidden)
        return self.out(h)                     # (B, V) logits


def split_text(text, val_fraction, seed=0):
    """(train text, validation text): a random sample of round(val_fraction * n) of the n
    non-blank lines (at least one), drawn with `seed`, is held out; each part keeps the text's
    order. Every line ends with a newline, so no line runs into the next."""
    lines = [line if line.endswith("\n") else line + "\n"
             for line in text.splitlines(keepends=True)]
    candidates = [i for i, line in enumerate(lines) if line.strip()]
    n_val = min(max(1, round(val_fraction * len(candidates))), len(candidates) - 1)
    held = np.zeros(len(lines), dtype=bool)
    held[np.random.default_rng(seed).choice(candidates, size=max(n_val, 0), replace=False)] = True
    return ("".join(line for line, h in zip(lines, held) if not h),
            "".join(line for line, h in zip(lines, held) if h))


def examples(text, vocab, block_size):
    """(contexts (n, T), next characters (n,)) for every character of `text`.

    Each line starts afresh: the context of a line's first characters is newlines, not the end
    of the line before (the lines are independent sentences). So sampling from a context of
    newlines, as `sample` does, starts a sentence the way training did.
    """
    pad = vocab["\n"]                          # "<unk>" (0) if the text has no newline
    ids = vocab.encode(tokenize(text, "char"))
    X, Y = context_windows(ids, block_size, pad_id=pad)                # (n, T), (n,)
    line = np.concatenate(([0], np.cumsum(ids == pad)[:-1]))          # line of each position
    context_line = np.lib.stride_tricks.sliding_window_view(
        np.concatenate((np.full(block_size, -1), line)), block_size)[:len(Y)]   # (n, T)
    return np.where(context_line < line[:, None], pad, X), Y


def build_model(config, vocab):
    """The untrained model of a run with this config: the same initial weights, every time."""
    autograd.manual_seed(config.seed)
    return CharMLP(len(vocab), config.block_size, config.emb_dim, config.hidden)


def default_out(config):
    return "runs/charlm"


def check(config):
    """Every setting (ConfigError naming the flag) and the text; returns (train, val) text."""
    checks.common(config)
    checks.integers(config, 1, "block_size", "emb_dim", "hidden", "sample_length")
    checks.integers(config, 0, "samples")
    checks.positive_numbers(config, "temperature")
    checks.fraction(config, "val_fraction")
    text = checks.read_corpus(config.corpus)
    lines = sum(1 for line in text.splitlines() if line.strip())
    if lines < 2:
        checks.fail("corpus", config.corpus, f"has {lines} non-blank line; charlm holds out "
                    f"a random {config.val_fraction:.0%} of the lines (at least one) for "
                    f"validation and trains on the rest, so it needs at least 2")
    train_text, val_text = split_text(text, config.val_fraction, config.seed)
    if len(train_text) <= config.block_size:
        checks.fail("corpus", config.corpus, f"leaves {len(train_text)} characters to train "
                    f"on; --block-size {config.block_size} needs at least "
                    f"{config.block_size + 1}: a longer text or a smaller --block-size")
    return train_text, val_text


def run(config, callbacks=()):
    train_text, val_text = check(config)                   # before any file is written
    folder = common.RunFolder(config.out or default_out(config), outputs(config)).claim()
    with folder.interrupt_report():
        return train(config, folder, train_text, val_text, callbacks)


def outputs(config):
    names = [common.CHECKPOINT, "vocab.json", "loss.png"]
    names += ["samples.txt"] if config.samples else []
    return names + (["vectors.tsv", "metadata.tsv"] if config.export_projector else [])


def train(config, folder, train_text, val_text, callbacks):
    # -- data: every character with the block_size characters before it -------------------------
    vocab = Vocab(tokenize(train_text, "char"))
    X, Y = examples(train_text, vocab, config.block_size)              # (n, T), (n,)
    Xv, Yv = examples(val_text, vocab, config.block_size)
    loader = DataLoader(TensorDataset(X, Y), batch_size=config.batch_size, shuffle=True,
                        seed=config.seed)
    val_loader = DataLoader(TensorDataset(Xv, Yv), batch_size=4096)
    print(f"charlm: {len(vocab)} characters, {len(Y):,} training and {len(Yv):,} validation "
          f"examples (a random {config.val_fraction:.0%} of the lines), context "
          f"{config.block_size}")

    # -- model, optimizer, schedule -----------------------------------------------------------
    model = build_model(config, vocab)
    optimizer = Adam(model.parameters(), lr=config.lr)

    # -- train: checkpoint every epoch and on Ctrl-C; --resume picks up from the last one -----
    history = History()
    ckpt = common.Checkpointer(folder, model, optimizer, history, config,
                               {"loader": loader.generator})
    start = ckpt.resume(config.epochs) if config.resume else 0
    scheduler = CosineAnnealingLR(optimizer, T_max=config.epochs, last_epoch=start - 1)
    with ckpt.training():        # Ctrl-C saves; a loss that blows up stops the run
        fit(model, F.cross_entropy, optimizer, loader, epochs=config.epochs,
            scheduler=scheduler, eval_loader=val_loader, progress=config.progress,
            callbacks=[ckpt, common.stop_if_diverging, *callbacks], start_epoch=start,
            history=history)

    # -- how good is it: validation loss against two baselines, and samples ----------------------
    metrics = {"val_loss": evaluate(model, Xv, Yv), "log_vocab": math.log(len(vocab)),
               "unigram_loss": unigram_loss(vocab, Yv)}
    texts = [sample(model, vocab, config.sample_length, config.temperature, config.seed + k)
             for k in range(config.samples)]
    vocab.save(folder.file("vocab.json"))
    common.save_loss_plot(history, folder, "loss.png", "character MLP: train and validation loss",
                          {"log V (uniform guess)": metrics["log_vocab"],
                           "unigram model": metrics["unigram_loss"]})
    if texts:
        with folder.write("samples.txt", "w", encoding="utf-8") as f:
            f.write(f"# {config.samples} samples, temperature {config.temperature}\n\n"
                    + "\n----\n".join(texts) + "\n")
    if config.export_projector:
        export_projector(folder.path, model.embed.weight.data,
                         [SHOWN.get(c, c) for c in vocab.itos])
    files = {name.split(".")[0]: folder.file(name) for name in outputs(config)}
    report(metrics, texts, folder.path, files)
    common.check_learned(history, config.lr, Config.lr)
    if not metrics["val_loss"] < metrics["log_vocab"]:
        raise common.TrainingFailed(
            f"the validation loss {metrics['val_loss']:.4g} is no better than a uniform guess "
            f"(log V = {metrics['log_vocab']:.4g}): the model does not generalise. Try "
            f"another --lr, a smaller model or a longer text.")
    return Result(model, vocab, history, metrics, files, texts)


# The projector's labels for the characters that would print as nothing.
SHOWN = {" ": "<space>", "\n": "<newline>", "\t": "<tab>", "\r": "<cr>"}


@no_grad()
def evaluate(model, X, Y, batch=4096):
    """Mean -log p(next character) over (X, Y), in nats."""
    model.eval()
    total = sum(F.cross_entropy(model(Tensor(X[i:i + batch])), Tensor(Y[i:i + batch]),
                                reduction="sum").item() for i in range(0, len(Y), batch))
    model.train()
    return total / max(len(Y), 1)


def unigram_loss(vocab, Y):
    """The loss of a model that knows each character's frequency and nothing else."""
    p = (vocab.counts + 1) / (vocab.counts + 1).sum()        # add-one: no character has p = 0
    return float(-np.log(p[Y]).mean()) if len(Y) else float("nan")


@no_grad()
def sample(model, vocab, n, temperature=1.0, seed=None, prompt="\n"):
    """n characters drawn one at a time from p(next | last block_size characters) ^ (1/T).

    Starts after `prompt` (left-padded with newlines to block_size), as the text's lines do.
    temperature -> 0 approaches always taking the most likely character.
    """
    if temperature <= 0:
        raise ValueError(f"sample: temperature must be > 0, got {temperature}")
    rng = np.random.default_rng(seed)
    was_training = model.training
    model.eval()
    pad = vocab["\n"]
    context = [pad] * model.block_size + list(vocab.encode(prompt))
    out = []
    for _ in range(n):
        logits = model(Tensor(np.array([context[-model.block_size:]]))).data[0]   # (V,)
        z = logits.astype(np.float64) / temperature
        p = np.exp(z - z.max())
        p[0] = 0.0                                     # never "<unk>"
        nxt = int(rng.choice(len(p), p=p / p.sum()))
        context.append(nxt)
        out.append(vocab.itos[nxt])
    model.train(was_training)
    return "".join(out)


def report(metrics, texts, out, files):
    print(f"validation loss {metrics['val_loss']:.3f} nats/char "
          f"({metrics['val_loss'] / math.log(2):.2f} bits); a uniform guess scores "
          f"log V = {metrics['log_vocab']:.3f}, a unigram model {metrics['unigram_loss']:.3f}")
    if texts:
        print("sample:", texts[0].strip().splitlines()[0] if texts[0].strip() else "")
    print(f"wrote {out}/: " + "  ".join(p.name for p in files.values()))


def add_arguments(parser):
    from gradspace.train.cli import add_common_arguments
    config = Config()
    add_common_arguments(parser, config, "runs/charlm")
    parser.add_argument("--block-size", type=int, default=config.block_size,
                        help=f"characters of context (default {config.block_size})")
    parser.add_argument("--hidden", type=int, default=config.hidden,
                        help=f"hidden units (default {config.hidden})")
    parser.add_argument("--emb-dim", "--dim", dest="emb_dim", type=int, default=config.emb_dim,
                        help=f"character embedding size (default {config.emb_dim})")
    parser.add_argument("--temperature", type=float, default=config.temperature,
                        help=f"sampling temperature (default {config.temperature})")
    parser.add_argument("--val-fraction", type=float, default=config.val_fraction,
                        help=f"fraction of the lines held out for validation, a random sample "
                             f"drawn with --seed (default {config.val_fraction})")
    parser.add_argument("--export-projector", action="store_true",
                        help="also write the character embeddings as vectors.tsv and "
                             "metadata.tsv for the TensorBoard Embedding Projector")


def main(argv=None):
    from gradspace.train.cli import main_for
    return main_for(sys.modules[__name__], argv, "gradspace charlm")
