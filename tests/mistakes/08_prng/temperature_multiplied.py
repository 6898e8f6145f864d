# task: task-06-temperature
# why: multiplies the logits by the temperature instead of dividing, inverting its effect
# see: 08_prng §6
import jax


def sample_with_temperature(key, logits, n, temperature):
    return jax.random.categorical(key, logits * temperature, shape=(n,))
