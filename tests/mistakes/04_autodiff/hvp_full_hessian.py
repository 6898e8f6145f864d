# task: task-03-hvp
# why: builds the full n x n Hessian with jax.hessian and multiplies it by v (right numbers, n^2 memory)
import jax


def hvp(f, x, v):
    return jax.hessian(f)(x) @ v
