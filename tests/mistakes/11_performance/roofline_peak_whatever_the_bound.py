# task: task-01-roofline
# why: gives the peak FLOP/s as the attainable speed even for a memory-bound matmul, where the bandwidth caps it at intensity x bandwidth
# see: 11_performance §3
def roofline(m, k, n, dtype, peak_flops, bandwidth):
    intensity = 2 * m * k * n / (jnp.dtype(dtype).itemsize * (m * k + k * n + m * n))
    bound = "compute" if intensity * bandwidth >= peak_flops else "memory"
    return intensity, peak_flops, bound
