# task: task-02-dict-grads
# why: counts argnums from 1 (argnums=1 for the first argument), so it differentiates with respect to x, not params
# see: 04_autodiff §3.1
import jax
import jax.numpy as jnp


def loss_and_grads(params, x, y, lam):
    def loss(params, x, y, lam):
        residuals = x @ params["w"] + params["b"] - y
        return jnp.mean(residuals**2) + lam * jnp.sum(params["w"] ** 2)

    return jax.value_and_grad(loss, argnums=1)(params, x, y, lam)
