# task: task-05-bf16-matmul
# why: asks for a float32 result but never stores the operands in bfloat16: a float32 matmul, with none of the halved bytes
# see: 11_performance §9
def matmul_bf16(a, b):
    return jnp.matmul(a, b, preferred_element_type=jnp.float32)
