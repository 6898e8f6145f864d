# task: task-06-flops
# why: counts the softmax's division as n flops per row, but XLA takes one reciprocal and then multiplies (n + 1)
# see: 12_transformer §3
def block_flops(batch, t, d, heads):
    matmuls = 2 * batch * t * d * 12 * d + 4 * batch * t * t * d
    softmax = batch * heads * t * (4 * t - 2)
    return matmuls + softmax + batch * t * d + 6 * batch * t * d
