# task: task-04-saved-matmuls
# why: a plain jax.checkpoint saves nothing (nothing_saveable), so the backward pass runs every matmul of the forward pass again: the FLOPs grow by about a third
# see: 11_performance §7
def matmul_saving_loss(W, x):
    return stack_loss(W, x, jax.checkpoint(residual_layer))
