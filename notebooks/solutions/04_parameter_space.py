# Answers to the exercises of 04_parameter_space.ipynb (see tests/test_notebook_exercises.py).
# === Exercise 4.1 ===
def grad_phi(J, grad_theta):
    return J.T @ grad_theta
# === Exercise 4.1 wrong ===
def grad_phi(J, grad_theta):
    return J.sum(axis=0) * grad_theta.sum()
# === Exercise 4.2 ===
def largest_stable_lr(H):
    return 2 / np.linalg.eigvalsh(H).max()
# === Exercise 4.2 wrong ===
def largest_stable_lr(H):
    return 2 / np.linalg.eigvalsh(H).min()
