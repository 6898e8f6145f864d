# task: task-02-mlp-flops
# why: counts only the two matmuls; XLA also counts one FLOP per element for each bias add and for the ReLU's max
# see: 11_performance §3
def mlp_flops(batch, d_in, d_hidden, d_out):
    return 2 * batch * d_in * d_hidden + 2 * batch * d_hidden * d_out
