# task: task-03-tight-remat
# why: checkpoints with everything_saveable, a policy that saves every residual: it is no remat at all, and the gradient needs as much memory as without jax.checkpoint
# see: 11_performance §7
def tight_loss(W, x):
    return stack_loss(W, x, jax.checkpoint(residual_layer, policy=jax.checkpoint_policies.everything_saveable))
