# Answers to the exercises of 01_build_it_yourself.ipynb: each "# === <id> ===" section replaces
# the cell's answer region (tests/test_notebook_exercises.py); "wrong" sections are mistakes
# the check must catch.
# === Exercise 1.1 ===
def sigmoid_slope(a):
    s = sigmoid(a)
    return s * (1 - s)
# === Exercise 1.1 wrong ===
def sigmoid_slope(a):
    return sigmoid(a) * (1 + sigmoid(a))
# === Exercise 1.2 ===
def value_exp(self):
    out = Value(math.exp(self.data), (self,))

    def _backward():
        self.grad += out.data * out.grad
    out._backward = _backward
    return out
# === Exercise 1.2 wrong ===
def value_exp(self):
    out = Value(math.exp(self.data), (self,))

    def _backward():
        self.grad += out.grad
    out._backward = _backward
    return out
# === Exercise 1.3 ===
class Cube(ag.Function):
    def forward(self, a):
        return a ** 3

    def backward(self, grad, out):
        (a,) = self.inputs
        return (grad * 3 * a ** 2,)
# === Exercise 1.3 wrong ===
class Cube(ag.Function):
    def forward(self, a):
        return a ** 3

    def backward(self, grad, out):
        (a,) = self.inputs
        return (grad * 3 * a,)
