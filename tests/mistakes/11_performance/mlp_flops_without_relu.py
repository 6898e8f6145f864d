# task: task-02-mlp-flops
# why: counts the bias adds but not the ReLU, whose max(h, 0) is one FLOP per hidden element to XLA
# see: 11_performance §3
def mlp_flops(batch, d_in, d_hidden, d_out):
    return 2 * batch * d_in * d_hidden + batch * d_hidden + 2 * batch * d_hidden * d_out + batch * d_out
