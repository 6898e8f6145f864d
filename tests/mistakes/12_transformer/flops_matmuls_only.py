# task: task-06-flops
# why: counts the matrix products only, forgetting the softmax, the scaling, the residual adds and the ReLU
# see: 12_transformer §5
def block_flops(batch, t, d, heads):
    return 2 * batch * t * d * 12 * d + 4 * batch * t * t * d
