# task: task-04-saved-matmuls
# why: save_only_these_names with a name that nothing carries ("pre" instead of the model's "mix") saves nothing, silently, and every matmul is recomputed
# see: 11_performance §7
def matmul_saving_loss(W, x):
    policy = jax.checkpoint_policies.save_only_these_names("pre")
    return stack_loss(W, x, jax.checkpoint(residual_layer, policy=policy))
