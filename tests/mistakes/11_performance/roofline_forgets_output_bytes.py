# task: task-01-roofline
# why: counts the bytes of the two inputs but not of the output the matmul writes, so the intensity comes out too high
# see: 11_performance §3
def roofline(m, k, n, dtype, peak_flops, bandwidth):
    intensity = 2 * m * k * n / (jnp.dtype(dtype).itemsize * (m * k + k * n))
    bound = "compute" if intensity * bandwidth >= peak_flops else "memory"
    return intensity, min(peak_flops, intensity * bandwidth), bound
