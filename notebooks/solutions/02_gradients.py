# Answers to the exercises of 02_gradients.ipynb (see tests/test_notebook_exercises.py).
# === Exercise 2.1 ===
def grad_q(x):
    return A @ x + b
# === Exercise 2.1 wrong ===
def grad_q(x):
    return 0.5 * A @ x + b
# === Exercise 2.2 ===
def central(F, x, u, h):
    return (F(x + h * u) - F(x - h * u)) / (2 * h)
# === Exercise 2.2 wrong ===
def central(F, x, u, h):
    return (F(x + h * u) - F(x)) / h
# === Exercise 2.3 ===
def steepest(grad):
    return -grad / np.linalg.norm(grad)
# === Exercise 2.3 wrong ===
def steepest(grad):
    return -grad
