# task: task-05-walk
# why: splits the key but passes the old one on in the carry, so every step draws the same number
import jax


def random_walk(key, steps, step_size):
    def step(carry, _):
        key, position = carry
        _, subkey = jax.random.split(key)
        position = position + step_size * jax.random.normal(subkey)
        return (key, position), position

    _, path = jax.lax.scan(step, (key, 0.0), None, length=steps)
    return path
