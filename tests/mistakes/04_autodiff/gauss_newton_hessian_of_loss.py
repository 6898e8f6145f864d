# task: task-03-gauss-newton
# why: the chapter's Hessian-vector product of 0.5 * |r|^2 (jvp of grad), which adds sum_i r_i H_i v: right only for linear or zero residuals
# see: 04_autodiff §9
import jax
import jax.numpy as jnp


def gauss_newton_vp(residuals, theta, v):
    def half_squared_norm(t):
        return 0.5 * jnp.sum(residuals(t) ** 2)

    return jax.jvp(jax.grad(half_squared_norm), (theta,), (v,))[1]
