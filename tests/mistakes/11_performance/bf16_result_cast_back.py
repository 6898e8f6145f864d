# task: task-05-bf16-matmul
# why: multiplies the bfloat16 operands into a bfloat16 result and casts that to float32 afterwards: the sums were rounded to bfloat16 first, and the cast does not bring the precision back
# see: 11_performance §9
def matmul_bf16(a, b):
    return (a.astype(jnp.bfloat16) @ b.astype(jnp.bfloat16)).astype(jnp.float32)
