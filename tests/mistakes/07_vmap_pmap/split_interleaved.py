# task: task-04-split
# why: reshapes to (per_device, n_devices) and swaps the axes, so device k gets rows k, k+n, ... instead of a contiguous block
def split_for_devices(batch, n_devices):
    if batch.shape[0] % n_devices:
        raise ValueError(f"a batch of {batch.shape[0]} does not split evenly over {n_devices} devices")
    return batch.reshape(batch.shape[0] // n_devices, n_devices, *batch.shape[1:]).swapaxes(0, 1)


def merge_from_devices(stacked):
    return stacked.swapaxes(0, 1).reshape(-1, *stacked.shape[2:])
