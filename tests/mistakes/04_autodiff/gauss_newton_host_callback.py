# task: task-03-gauss-newton
# why: builds the Jacobian in NumPy inside jax.pure_callback, where JAX cannot see it: it still takes m*n memory, and JAX can neither differentiate nor export a call back into Python
# see: 04_autodiff §9
import jax
import jax.numpy as jnp
import numpy as np


def gauss_newton_vp(residuals, theta, v):
    def on_the_host(t, u):
        jacobian = np.asarray(jax.jacfwd(residuals)(jnp.asarray(t)))
        return (jacobian.T @ (jacobian @ np.asarray(u))).astype(np.float32)

    return jax.pure_callback(on_the_host, jax.ShapeDtypeStruct(theta.shape, jnp.float32), theta, v)
