# task: task-04-pure
# why: keeps the count in a global updated inside the function: under jit it only changes at trace time and goes stale
# see: 05_jit §5
seen = 0


def record(state, batch):
    global seen
    _, total = state
    seen += batch.size
    total = total + batch.sum()
    return (seen, total), total / seen
