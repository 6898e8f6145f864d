# task: task-03-ball
# why: keeps the pi estimate's factor 4 (the square's area) instead of the cube's volume 2**d
# see: 08_prng §7
def ball_volume(key, d, n):
    points = jax.random.uniform(key, (n, d), minval=-1.0, maxval=1.0)
    return 4.0 * jnp.mean(jnp.linalg.norm(points, axis=-1) <= 1.0)
