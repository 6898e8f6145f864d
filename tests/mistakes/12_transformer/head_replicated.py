# task: task-05-head
# why: pads the vocabulary but places the kernel and bias replicated (P()), so every device holds the whole layer
# see: 12_transformer §10
import jax
import jax.numpy as jnp
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P


def shard_head(w, b, mesh):
    missing = -w.shape[1] % mesh.shape["model"]
    w = jnp.pad(w, ((0, 0), (0, missing)))
    b = jnp.pad(b, (0, missing))
    return jax.device_put(w, NamedSharding(mesh, P())), jax.device_put(b, NamedSharding(mesh, P()))


def head_logits(x, w, b, vocab):
    return (x @ w + b)[:, :vocab]
