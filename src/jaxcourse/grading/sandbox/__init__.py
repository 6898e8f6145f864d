"""Where student code runs: the sandbox's settings and limits, the jail (namespaces, chroot,
cgroups), the zygote that forks warm kernels, the kernel and its sockets, the guard, the watchdog.
"""
