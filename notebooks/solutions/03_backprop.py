# Answers to the exercises of 03_backprop.ipynb (see tests/test_notebook_exercises.py).
# === Exercise 3.1 ===
def do_dw1(x1, w1, x2, w2, b):
    o = np.tanh(x1 * w1 + x2 * w2 + b)
    return (1 - o ** 2) * x1
# === Exercise 3.1 wrong ===
def do_dw1(x1, w1, x2, w2, b):
    o = np.tanh(x1 * w1 + x2 * w2 + b)
    return (1 - o ** 2) * w1
# === Exercise 3.2 ===
def grad_W(G, X):
    return G.T @ X
# === Exercise 3.2 wrong ===
def grad_W(G, X):
    return (X.T @ G).T / len(X)
# === Exercise 3.3 ===
def grad_w(X):
    return X.sum(axis=0)
# === Exercise 3.3 wrong ===
def grad_w(X):
    return X.mean(axis=0)
