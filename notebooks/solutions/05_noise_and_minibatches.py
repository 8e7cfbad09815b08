# Answers to the exercises of 05_noise_and_minibatches.ipynb (tests/test_notebook_exercises.py).
# === Exercise 5.1 ===
def mse_grad(f, y):
    return 2 * (f - y) / f.size
# === Exercise 5.1 wrong ===
def mse_grad(f, y):
    return (f - y) / f.size
# === Exercise 5.2 ===
def sigma_mle(residuals):
    return np.sqrt(np.mean(residuals ** 2))
# === Exercise 5.2 wrong ===
def sigma_mle(residuals):
    return np.std(residuals, ddof=1)
# === Exercise 5.3 ===
def sgd_step(theta, x_batch, y_batch, lr):
    w, b = theta
    r = w * x_batch[:, 0] + b - y_batch[:, 0]
    grad = np.array([2 * (r * x_batch[:, 0]).mean(), 2 * r.mean()])
    return theta - lr * grad
# === Exercise 5.3 wrong ===
def sgd_step(theta, x_batch, y_batch, lr):
    w, b = theta
    r = w * x_batch[:, 0] + b - y_batch[:, 0]
    grad = np.array([(r * x_batch[:, 0]).mean(), r.mean()])
    return theta + lr * grad
