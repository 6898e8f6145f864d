# task: task-01-roofline
# why: counts 4 bytes per element whatever the dtype, so bfloat16, float16 or int8 operands look less intense than they are
# see: 11_performance §3
def roofline(m, k, n, dtype, peak_flops, bandwidth):
    intensity = 2 * m * k * n / (4 * (m * k + k * n + m * n))
    bound = "compute" if intensity * bandwidth >= peak_flops else "memory"
    return intensity, min(peak_flops, intensity * bandwidth), bound
