# task: task-07-unsharp
# why: forgets to clip, so the overshoot at edges leaves values below 0 and above 1
# see: 03_image_filtering §8
def unsharp_mask(channel, blur, amount):
    return channel + amount * (channel - blur(channel))
