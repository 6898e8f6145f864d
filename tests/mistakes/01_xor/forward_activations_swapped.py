# task: task-01-forward
# why: sigmoid on the hidden layers and tanh at the output, the two activations swapped
# see: 01_xor §2
def forward(layers, x):
    *hidden, (w_out, b_out) = layers
    h = x
    for w, b in hidden:
        h = jax.nn.sigmoid(h @ w + b)
    return jnp.tanh(h @ w_out + b_out)
