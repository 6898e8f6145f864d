# task: task-01-forward
# why: sigmoid in the hidden layer and tanh at the output, the two activations swapped
def forward(params, x):
    w1, b1, w2, b2 = params
    z = jax.nn.sigmoid(x @ w1 + b1)
    return jnp.tanh(z @ w2 + b2)
