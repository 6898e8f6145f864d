# task: task-05-bf16-matmul
# why: casts only one operand to bfloat16; jnp promotes the mixed pair back to float32, so the matmul runs in float32 after all
# see: 11_performance §9
def matmul_bf16(a, b):
    return jnp.matmul(a.astype(jnp.bfloat16), b, preferred_element_type=jnp.float32)
