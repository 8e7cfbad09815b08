"""Training recipes: readable top-to-bottom scripts that a notebook can import.

- `skipgram`: word embeddings with a full softmax or negative sampling (`gradspace skipgram`).
- `charlm`: a Bengio-style MLP that predicts the next character (`gradspace charlm`).

Each has a `Config` dataclass (a comment per field), `run(config) -> Result`, and `main(argv)`.
"""
RECIPES = ("skipgram", "charlm")
