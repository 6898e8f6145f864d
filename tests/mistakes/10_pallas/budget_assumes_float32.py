# task: task-06-budget
# why: counts 4 bytes per element whatever the dtype, so bfloat16, float16 or int8 blocks look twice or four times their size
# see: 10_pallas §4
def block_rows_for_budget(shape, dtype, budget_bytes):
    m, n = shape
    best = None
    for rows in range(8, m + 1, 8):
        if m % rows == 0 and 2 * 2 * rows * n * 4 <= budget_bytes:
            best = rows
    return best
