# task: task-04-saved-matmuls
# why: everything_saveable keeps the matmuls but also every other residual: nothing is recomputed and no memory is saved
# see: 11_performance §7
def matmul_saving_loss(W, x):
    policy = jax.checkpoint_policies.everything_saveable
    return stack_loss(W, x, jax.checkpoint(residual_layer, policy=policy))
