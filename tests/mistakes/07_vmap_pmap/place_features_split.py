# task: task-07-place
# why: writes P(None, "data"), which splits the features (axis 1) over the devices instead of the examples (axis 0)
# see: 07_vmap_pmap §5
def place_on_mesh(params, batch, mesh):
    params_on_mesh = jax.device_put(params, NamedSharding(mesh, P()))
    batch_on_mesh = jax.device_put(batch, NamedSharding(mesh, P(None, "data")))
    return params_on_mesh, batch_on_mesh
