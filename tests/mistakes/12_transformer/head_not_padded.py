# task: task-05-head
# why: splits the columns over "model" without padding the vocabulary, which NamedSharding refuses when V does not divide
# see: 12_transformer §10
import jax
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P


def shard_head(w, b, mesh):
    return (jax.device_put(w, NamedSharding(mesh, P(None, "model"))),
            jax.device_put(b, NamedSharding(mesh, P("model"))))


def head_logits(x, w, b, vocab):
    return (x @ w + b)[:, :vocab]
