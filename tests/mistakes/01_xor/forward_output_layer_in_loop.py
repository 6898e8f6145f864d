# task: task-01-forward
# why: loops over every layer with tanh, so the output layer gets tanh before the sigmoid too
# see: 01_xor §2
def forward(layers, x):
    h = x
    for w, b in layers:
        h = jnp.tanh(h @ w + b)
    return jax.nn.sigmoid(h)
