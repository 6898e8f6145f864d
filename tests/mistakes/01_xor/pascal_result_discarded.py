# task: task-04-pascal
# why: calls .at[].set() on each row without keeping the new array, as if it changed P in place
# see: 01_xor §7
@partial(jax.jit, static_argnames="n")
def pascal(n):
    P = jnp.zeros((n, n))
    P = P.at[:, 0].set(1.0)
    for i in range(1, n):
        P.at[i, 1:i + 1].set(P[i - 1, :i] + P[i - 1, 1:i + 1])
    return P
