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
which is also where `sample` starts, so samples begin like the text's lines do. The last
`val_fraction` of the lines are held out: the validation loss, in nats per character, is
compared with log V (a uniform guess over the V characters) and with a unigram model (each
character's frequency, no context), so "the model learned something" is a number.

Writes to --out (runs/charlm): checkpoint.npz, vocab.json, loss.png and samples.txt.
"""
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import gradspace.nn.functional as F
from gradspace import autograd, nn
from gradspace.autograd import Tensor, no_grad
from gradspace.train.data import (
    DataLoader,
    TensorDataset,
    Vocab,
    context_windows,
    load_corpus,
    tokenize,
)
from gradspace.train.loop import History, fit
from gradspace.train.optim import Adam
from gradspace.train.optim.lr_scheduler import CosineAnnealingLR
from gradspace.train.recipes import common


@dataclass
class Config:
    corpus: str | None = None  # text file to train on; None: the corpus shipped with gradspace
    block_size: int = 8        # T, characters of context the model sees
    emb_dim: int = 16          # e, size of each character's embedding
    hidden: int = 200          # units of the tanh hidden layer
    epochs: int = 3            # passes over the training characters
    batch_size: int = 256      # examples (context, next character) per step
    lr: float = 5e-3           # Adam's learning rate, cosine-annealed to 0 over the epochs
    val_fraction: float = 0.1  # last fraction of the lines held out for validation
    seed: int = 0              # seeds the weights, the shuffles and the samples
    out: str = "runs/charlm"   # run folder: checkpoint, loss curve and samples go here
    resume: bool = False       # continue from <out>/checkpoint.npz
    progress: bool = True      # show a progress bar
    samples: int = 5           # samples written to samples.txt
    sample_length: int = 300   # characters per sample
    temperature: float = 0.8   # < 1: safer, more typical samples; > 1: wilder


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


def split_text(text, val_fraction):
    """(train text, validation text), cut at a line boundary."""
    lines = text.splitlines(keepends=True)
    cut = len(lines) - max(1, round(val_fraction * len(lines))) if len(lines) > 1 else 1
    return "".join(lines[:cut]), "".join(lines[cut:])


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


def run(config, callbacks=()):
    out = common.out_dir(config.out)

    # -- data: every character with the block_size characters before it -------------------------
    train_text, val_text = split_text(load_corpus(config.corpus), config.val_fraction)
    vocab = Vocab(tokenize(train_text, "char"))
    X, Y = examples(train_text, vocab, config.block_size)              # (n, T), (n,)
    Xv, Yv = examples(val_text, vocab, config.block_size)
    loader = DataLoader(TensorDataset(X, Y), batch_size=config.batch_size, shuffle=True,
                        seed=config.seed)
    val_loader = DataLoader(TensorDataset(Xv, Yv), batch_size=4096)
    print(f"charlm: {len(vocab)} characters, {len(Y):,} training and {len(Yv):,} validation "
          f"examples, context {config.block_size}")

    # -- model, optimizer, schedule -----------------------------------------------------------
    model = build_model(config, vocab)
    optimizer = Adam(model.parameters(), lr=config.lr)

    # -- train: checkpoint every epoch and on Ctrl-C; --resume picks up from the last one -----
    history = History()
    ckpt = common.Checkpointer(out, model, optimizer, history, config,
                               {"loader": loader.generator})
    start = ckpt.resume(config.epochs) if config.resume else 0
    scheduler = CosineAnnealingLR(optimizer, T_max=config.epochs, last_epoch=start - 1)
    try:
        fit(model, F.cross_entropy, optimizer, loader, epochs=config.epochs,
            scheduler=scheduler, eval_loader=val_loader, progress=config.progress,
            callbacks=[ckpt, *callbacks], start_epoch=start, history=history)
    except KeyboardInterrupt:
        ckpt.save_interrupted()       # then exit: `gradspace` returns 130
        raise

    # -- how good is it: validation loss against two baselines, and samples ----------------------
    metrics = {"val_loss": evaluate(model, Xv, Yv), "log_vocab": math.log(len(vocab)),
               "unigram_loss": unigram_loss(vocab, Yv)}
    texts = [sample(model, vocab, config.sample_length, config.temperature, config.seed + k)
             for k in range(config.samples)]
    files = {"checkpoint": ckpt.path, "vocab": out / "vocab.json", "loss": out / "loss.png",
             "samples": out / "samples.txt"}
    vocab.save(files["vocab"])
    common.save_loss_plot(history, files["loss"], "character MLP: train and validation loss",
                          {"log V (uniform guess)": metrics["log_vocab"],
                           "unigram model": metrics["unigram_loss"]})
    Path(files["samples"]).write_text(
        f"# {config.samples} samples, temperature {config.temperature}\n\n"
        + "\n----\n".join(texts) + "\n", encoding="utf-8")
    report(metrics, texts, out, files)
    return Result(model, vocab, history, metrics, files, texts)


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
    config = Config()
    common.add_common_arguments(parser, config)
    parser.add_argument("--block-size", type=int, default=config.block_size,
                        help=f"characters of context (default {config.block_size})")
    parser.add_argument("--hidden", type=int, default=config.hidden,
                        help=f"hidden units (default {config.hidden})")
    parser.add_argument("--emb-dim", "--dim", dest="emb_dim", type=int, default=config.emb_dim,
                        help=f"character embedding size (default {config.emb_dim})")
    parser.add_argument("--temperature", type=float, default=config.temperature,
                        help=f"sampling temperature (default {config.temperature})")


def main(argv=None):
    return common.main_for(sys.modules[__name__], argv, "gradspace charlm")
