# task: task-03-optimizer
# why: adds the weight decay before clipping, so the decay term is clipped together with the gradients
# see: 09_ecosystem §6
def make_optimizer(peak_lr, warmup_steps, total_steps, clip_norm, weight_decay):
    schedule = optax.warmup_cosine_decay_schedule(init_value=0.0, peak_value=peak_lr,
                                                  warmup_steps=warmup_steps, decay_steps=total_steps,
                                                  end_value=0.0)
    return optax.chain(optax.add_decayed_weights(weight_decay),
                       optax.clip_by_global_norm(clip_norm),
                       optax.sgd(schedule, momentum=0.9))
