# task: task-04-pad
# why: pads with n - B % n rows, which is a whole extra block of n zero rows when B already divides by n
# see: 07_vmap_pmap §5
def pad_batch(batch, n):
    missing = n - batch.shape[0] % n
    padded = jnp.concatenate([batch, jnp.zeros((missing, *batch.shape[1:]), batch.dtype)])
    mask = jnp.arange(padded.shape[0]) < batch.shape[0]
    return padded, mask


def shard_batch(batch, mesh):
    padded, mask = pad_batch(batch, mesh.shape["data"])
    rows = NamedSharding(mesh, P("data"))
    return jax.device_put(padded, rows), jax.device_put(mask, rows)
