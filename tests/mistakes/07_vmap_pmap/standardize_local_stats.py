# task: task-05-standardize
# why: standardises each shard with its own mean and std, forgetting that the data set is spread over devices
# see: 07_vmap_pmap §7
def standardize_shard(v, axis_name):
    return (v - jnp.mean(v)) / jnp.std(v)
