"""Which runtime a notebook is on: backend, devices, versions, Colab, simulated CPU devices."""

from __future__ import annotations

import os
import platform
import sys
from dataclasses import dataclass, field
from importlib import metadata

_DEVICE_COUNT_FLAG = "--xla_force_host_platform_device_count"
# Set, it replaces the count every notebook asks for: a multi-device chapter run on CPU as a
# single-GPU runtime sees it (JAXCOURSE_CPU_DEVICES=1), without editing the notebook.
CPU_DEVICES_OVERRIDE = "JAXCOURSE_CPU_DEVICES"


def on_colab() -> bool:
    """True inside a Google Colab runtime."""
    return "google.colab" in sys.modules or "COLAB_RELEASE_TAG" in os.environ


def package_version(name: str) -> str | None:
    """The installed version of a distribution, or None when it is not installed."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def versions(names: tuple[str, ...] = ("jax", "jaxlib", "numpy")) -> dict[str, str | None]:
    """Python's version and the installed version of each named package."""
    found = {"python": platform.python_version()}
    found.update({name: package_version(name) for name in names})
    return found


def xla_flags_with_cpu_devices(count: int, current: str | None = None) -> str:
    """XLA_FLAGS (the current ones by default) with the simulated CPU device count set to `count`."""
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise ValueError(f"count must be a positive int, got {count!r}")
    current = os.environ.get("XLA_FLAGS", "") if current is None else current
    flags = [f for f in current.split() if not f.startswith(_DEVICE_COUNT_FLAG)]
    return " ".join([*flags, f"{_DEVICE_COUNT_FLAG}={count}"])


def request_cpu_devices(count: int) -> None:
    """Ask XLA for `count` simulated CPU devices; call before JAX runs its first operation.

    Before `import jax` this sets XLA_FLAGS; after the import it also sets the
    `jax_num_cpu_devices` option, which JAX refuses once a backend has started. On a GPU or TPU
    runtime it changes only the CPU platform, so notebooks may call it unconditionally.
    `JAXCOURSE_CPU_DEVICES`, when set, is the count asked for instead.
    """
    override = os.environ.get(CPU_DEVICES_OVERRIDE, "").strip()
    if override:
        if not override.isdigit() or int(override) < 1:
            raise ValueError(f"{CPU_DEVICES_OVERRIDE}={override!r}: expected a whole number of devices, at least 1")
        count = int(override)
    flags = xla_flags_with_cpu_devices(count)
    if "jax" in sys.modules:
        import jax

        try:
            jax.config.update("jax_num_cpu_devices", count)
        except RuntimeError as err:
            if jax.device_count("cpu") == count:
                return  # already so: the set-up cell was run again
            raise RuntimeError(
                f"JAX has already started its backends, so the number of CPU devices is fixed at "
                f"{jax.device_count('cpu')}. Restart the kernel and call "
                f"request_cpu_devices({count}) before any JAX operation."
            ) from err
    os.environ["XLA_FLAGS"] = flags


@dataclass(frozen=True)
class RuntimeInfo:
    backend: str
    devices: list[str]
    versions: dict[str, str | None]
    colab: bool
    x64: bool = field(default=False)

    @property
    def device_count(self) -> int:
        return len(self.devices)

    def __str__(self) -> str:
        shown = ", ".join(self.devices[:4]) + (", ..." if self.device_count > 4 else "")
        lines = [
            f"backend  : {self.backend}",
            f"devices  : {self.device_count} ({shown})",
            "versions : " + ", ".join(f"{k} {v}" for k, v in self.versions.items() if v),
            f"Colab    : {'yes' if self.colab else 'no'}",
            f"float64  : {'enabled' if self.x64 else 'disabled (jax_enable_x64 is off)'}",
        ]
        return "\n".join(lines)


def describe() -> RuntimeInfo:
    """Backend, devices and versions of the running JAX (starts JAX's backends)."""
    import jax

    return RuntimeInfo(
        backend=jax.default_backend(),
        devices=[f"{d.platform}:{d.id} {d.device_kind}" for d in jax.devices()],
        versions=versions(),
        colab=on_colab(),
        x64=bool(jax.config.jax_enable_x64),
    )
