# task: task-09-shard-map-step
# why: differentiates and returns the device's local loss: the loss varies across devices, so out_specs=P() is refused
# see: 07_vmap_pmap §7
def shard_map_step(params, x, y, lr, mesh):
    rows = NamedSharding(mesh, P("data"))
    x, y = jax.device_put(x, rows), jax.device_put(y, rows)
    params = jax.device_put(params, NamedSharding(mesh, P()))

    def local_loss(params, xb, yb):
        return jnp.mean((xb @ params["w"] + params["b"] - yb) ** 2)

    def per_device(params, xb, yb):
        loss, grads = jax.value_and_grad(local_loss)(params, xb, yb)
        return jax.tree.map(lambda p, g: p - lr * g, params, grads), loss

    step = jax.shard_map(per_device, mesh=mesh, in_specs=(P(), P("data"), P("data")), out_specs=(P(), P()))
    return step(params, x, y)
