# task: task-08-shard-map
# why: passes the plain array straight to shard_map without device_put onto the mesh first
# see: 07_vmap_pmap §7
def column_means(x, mesh):
    total_rows = x.shape[0]

    def per_device(block):
        return lax.psum(jnp.sum(block, axis=0), "data") / total_rows

    return jax.shard_map(per_device, mesh=mesh, in_specs=P("data"), out_specs=P())(x)
