# task: task-03-tight-remat
# why: saves the matmul results (dots_saveable), which still keeps one array per layer: less memory than no remat, but not within the tight budget, which needs everything recomputed
# see: 11_performance §7
def tight_loss(W, x):
    return stack_loss(W, x, jax.checkpoint(residual_layer, policy=jax.checkpoint_policies.dots_saveable))
