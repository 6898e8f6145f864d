# task: task-05-standardize
# why: standardises each shard with its own mean and std, forgetting that the data set is spread over devices
def standardize_shard(v, axis_name):
    return (v - jnp.mean(v)) / jnp.std(v)
