# task: task-05-recurrence
# why: calls .at[i].set(...) inside the loop without keeping the array it returns
@partial(jax.jit, static_argnames="n")
def recurrence(a0, a1, n):
    a = jnp.zeros(n)
    a = a.at[0].set(a0)
    a = a.at[1].set(a1)
    for i in range(2, n):
        a.at[i].set(a[i - 1] + a[i - 2])
    return a
