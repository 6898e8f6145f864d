# task: task-01-numerical-grad
# why: uses the forward difference (f(x+h) - f(x)) / h, whose error shrinks only like h, not h^2
# see: 04_autodiff §1.3
import numpy as np


def numerical_grad(f, x, h=1e-5):
    x = np.asarray(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for i in range(x.size):
        step = np.zeros_like(x)
        step[i] = h
        grad[i] = (f(x + step) - f(x)) / h
    return grad
