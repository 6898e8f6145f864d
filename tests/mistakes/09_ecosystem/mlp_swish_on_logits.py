# task: task-01-mlp
# why: applies swish after the last layer too, so the logits are squashed (negative scores pinned near 0)
# see: 02_mnist_mlp §4
class MLP(nnx.Module):
    def __init__(self, sizes, *, rngs: nnx.Rngs):
        self.layers = nnx.List([nnx.Linear(n_in, n_out, rngs=rngs)
                                for n_in, n_out in zip(sizes[:-1], sizes[1:])])

    def __call__(self, x):
        for layer in self.layers:
            x = jax.nn.swish(layer(x))
        return x
