# task: task-04-dense
# why: counts one flop per multiply-add in the matmul, half of what XLA counts (off by a factor of 2)
# see: 06_aot §4


def dense_flops(batch, d_in, d_out):
    return batch * d_in * d_out + 2 * batch * d_out
