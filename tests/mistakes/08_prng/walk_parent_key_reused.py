# task: task-05-walk
# why: draws the step from the key it also passes on to be split next step (a reused key)
import jax


def random_walk(key, steps, step_size):
    def step(carry, _):
        key, position = carry
        key, subkey = jax.random.split(key)
        position = position + step_size * jax.random.normal(key)
        return (key, position), position

    _, path = jax.lax.scan(step, (key, 0.0), None, length=steps)
    return path
