# task: task-06-temperature
# why: gives categorical probabilities where it expects logits, so it samples a flatter distribution
# see: 08_prng §6
import jax


def sample_with_temperature(key, logits, n, temperature):
    return jax.random.categorical(key, jax.nn.softmax(logits / temperature), shape=(n,))
