# task: task-03-optimizer
# why: passes total_steps - warmup_steps as decay_steps, but optax's decay_steps already counts the warm-up
# see: 09_ecosystem §6
def make_optimizer(peak_lr, warmup_steps, total_steps, clip_norm, weight_decay):
    schedule = optax.warmup_cosine_decay_schedule(init_value=0.0, peak_value=peak_lr,
                                                  warmup_steps=warmup_steps,
                                                  decay_steps=total_steps - warmup_steps, end_value=0.0)
    return optax.chain(optax.clip_by_global_norm(clip_norm),
                       optax.add_decayed_weights(weight_decay),
                       optax.sgd(schedule, momentum=0.9))
