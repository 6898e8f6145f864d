import os
import subprocess
import sys

import pytest

from jaxcourse import runtime


def _in_fresh_python(code: str, env_extra: dict | None = None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    env.update(env_extra or {})
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_xla_flags_replace_an_earlier_device_count_and_keep_other_flags():
    flags = runtime.xla_flags_with_cpu_devices(8, "--xla_cpu_foo=1 --xla_force_host_platform_device_count=2")
    assert flags.split() == ["--xla_cpu_foo=1", "--xla_force_host_platform_device_count=8"]


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "8"])
def test_device_count_must_be_a_positive_int(bad):
    with pytest.raises(ValueError, match="positive int"):
        runtime.xla_flags_with_cpu_devices(bad, "")


def test_request_before_import_gives_that_many_devices():
    out = _in_fresh_python(
        "from jaxcourse import runtime; runtime.request_cpu_devices(4); import jax; print(jax.device_count('cpu'))"
    )
    assert out == "4"


def test_request_after_import_but_before_first_operation_still_works():
    out = _in_fresh_python(
        "import jax; from jaxcourse import runtime; runtime.request_cpu_devices(3); print(jax.device_count('cpu'))"
    )
    assert out == "3"


def test_request_after_backend_started_says_restart_and_leaves_env_alone():
    out = _in_fresh_python(
        "import os, jax; jax.numpy.ones(1).block_until_ready()\n"
        "from jaxcourse import runtime\n"
        "try:\n    runtime.request_cpu_devices(8)\nexcept RuntimeError as e:\n    print('refused:', e)\n"
        "print('XLA_FLAGS' in os.environ)"
    )
    assert "refused:" in out and "Restart the kernel" in out
    assert out.splitlines()[-1] == "False"


def test_on_colab_follows_the_colab_environment(monkeypatch):
    monkeypatch.delenv("COLAB_RELEASE_TAG", raising=False)
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    assert runtime.on_colab() is False
    monkeypatch.setenv("COLAB_RELEASE_TAG", "release-colab_20261101")
    assert runtime.on_colab() is True


def test_versions_names_python_and_reports_missing_packages_as_none():
    found = runtime.versions(("jax", "no-such-package-here"))
    assert found["python"].startswith("3.")
    assert found["jax"] and found["no-such-package-here"] is None


def test_describe_reports_the_running_backend():
    import jax

    info = runtime.describe()
    assert info.backend == jax.default_backend()
    assert info.device_count == jax.device_count()
    text = str(info)
    assert f"backend  : {info.backend}" in text and "jax " in text


def test_asking_again_for_the_count_already_there_is_quiet():
    out = _in_fresh_python(
        "from jaxcourse import runtime; runtime.request_cpu_devices(2)\n"
        "import jax; jax.numpy.ones(1).block_until_ready()\n"
        "runtime.request_cpu_devices(2); print(jax.device_count('cpu'))"
    )
    assert out == "2"


def test_the_override_runs_a_multi_device_notebook_on_one_device(monkeypatch):
    """JAXCOURSE_CPU_DEVICES=1: chapter 12's request for 8 gives the 1 device a single GPU would."""
    monkeypatch.setenv(runtime.CPU_DEVICES_OVERRIDE, "1")
    out = _in_fresh_python(
        "from jaxcourse import runtime; runtime.request_cpu_devices(8); import jax; print(jax.device_count('cpu'))"
    )
    assert out == "1"


@pytest.mark.parametrize("bad", ["0", "two", "-1"])
def test_a_bad_override_says_what_it_expects(monkeypatch, bad):
    monkeypatch.setenv(runtime.CPU_DEVICES_OVERRIDE, bad)
    with pytest.raises(ValueError, match="JAXCOURSE_CPU_DEVICES.*whole number"):
        runtime.request_cpu_devices(8)
