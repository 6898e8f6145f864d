# task: task-03-ball
# why: draws each coordinate from the same key, so every point lies on the cube's diagonal
# see: 08_prng §4
def ball_volume(key, d, n):
    points = jnp.stack([jax.random.uniform(key, (n,), minval=-1.0, maxval=1.0) for _ in range(d)], axis=1)
    return 2.0**d * jnp.mean(jnp.linalg.norm(points, axis=-1) <= 1.0)
