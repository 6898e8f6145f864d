# task: task-04-train
# why: records the loss after each update instead of before it, so every entry is one step late
@partial(jax.jit, static_argnames=("loss_fn", "steps"))
def train(loss_fn, params, x, y, lr, steps):
    def one_step(params, _):
        grads = jax.grad(loss_fn)(params, x, y)
        params = tuple(p - lr * g for p, g in zip(params, grads))
        return params, loss_fn(params, x, y)

    return jax.lax.scan(one_step, tuple(params), None, length=steps)
