# task: task-01-mlp
# why: keeps the layers in a plain Python list, which Flax 0.12 refuses as a static attribute holding data
# see: 09_ecosystem §4
class MLP(nnx.Module):
    def __init__(self, sizes, *, rngs: nnx.Rngs):
        self.layers = [nnx.Linear(n_in, n_out, rngs=rngs) for n_in, n_out in zip(sizes[:-1], sizes[1:])]

    def __call__(self, x):
        for layer in self.layers[:-1]:
            x = jax.nn.swish(layer(x))
        return self.layers[-1](x)
