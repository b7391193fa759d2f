"""One TensorFlow distribution per install (issue 20 item 8), checked offline from the package's metadata.

`tensorflow`, `tensorflow-cpu` (and the older `tensorflow-gpu`, `tensorflow-macos`, ...) are different
distributions of one import package: two of them in one environment write the same `tensorflow/` folder.
setup.cfg requires `tensorflow` and its `gpu` extra `tensorflow[and-cuda]`; setup.py keeps an installed
`tensorflow-cpu` instead (docs/install.md). Here the requirements are resolved as pip resolves them (the
base requirements always, an extra's on top, markers evaluated for the target platform) for Linux x86_64,
Linux aarch64, macOS arm64 and Windows, with and without the `gpu` extra, for a fresh environment and for
one that holds tensorflow-cpu. Then: the real metadata build (pip, offline), the installed distribution's
metadata, and this environment itself hold exactly one TensorFlow.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
# Distributions that install the `tensorflow` import package (PEP 503 names).
TENSORFLOW_DISTRIBUTIONS = {"tensorflow", "tensorflow-cpu", "tensorflow-gpu", "tensorflow-macos", "tensorflow-intel",
                            "tensorflow-aarch64", "intel-tensorflow", "tf-nightly", "tf-nightly-cpu", "tf-nightly-gpu"}
PLATFORMS = {
    "linux x86_64": dict(sys_platform="linux", platform_system="Linux", platform_machine="x86_64", os_name="posix"),
    "linux aarch64": dict(sys_platform="linux", platform_system="Linux", platform_machine="aarch64",
                          os_name="posix"),
    "macOS arm64": dict(sys_platform="darwin", platform_system="Darwin", platform_machine="arm64", os_name="posix"),
    "windows amd64": dict(sys_platform="win32", platform_system="Windows", platform_machine="AMD64", os_name="nt"),
}
RELEASE = Version("2.21.0")  # the TensorFlow release the package is built against


def load_setup():
    """setup.py as a module (its `setup()` call runs only as __main__)."""
    spec = importlib.util.spec_from_file_location("tfgan_translate_setup", ROOT / "setup.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SETUP = load_setup()


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def environment(platform: str, extra: str = "") -> dict:
    return {**default_environment(), "python_version": "3.11", "python_full_version": "3.11.7",
            "implementation_name": "cpython", "platform_python_implementation": "CPython", **PLATFORMS[platform],
            "extra": extra}


def resolve(install_requires, extras_require, platform: str, extras=()) -> list[Requirement]:
    """The direct requirements pip installs for `pkg[extras]` on `platform`: the base ones always, plus the extras'."""
    chosen = [(Requirement(r), "") for r in install_requires]
    chosen += [(Requirement(r), extra) for extra in extras for r in extras_require[extra]]
    return [req for req, extra in chosen if req.marker is None or req.marker.evaluate(environment(platform, extra))]


def tensorflows(requirements) -> list[Requirement]:
    return [req for req in requirements if canonical(req.name) in TENSORFLOW_DISTRIBUTIONS]


def installable(requirements) -> bool:
    """Whether one version satisfies every requirement (each names the same distribution)."""
    candidates = [RELEASE] + [Version(spec.version) for req in requirements for spec in req.specifier
                              if spec.operator == "==" and "*" not in spec.version]
    return any(all(req.specifier.contains(v, prereleases=True) for req in requirements) for v in candidates)


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("extras", [(), ("gpu",)], ids=["cpu", "gpu"])
def test_a_fresh_environment_gets_exactly_one_tensorflow(platform, extras):
    base, extra_reqs = SETUP.requirements(installed=set())  # setup.cfg as written
    found = tensorflows(resolve(base, extra_reqs, platform, extras))
    assert {canonical(req.name) for req in found} == {"tensorflow"}, [str(r) for r in found]
    assert installable(found), [str(r) for r in found]
    cuda = any("and-cuda" in req.extras for req in found)
    # The GPU build with NVIDIA's libraries where PyPI's tensorflow is a CUDA build; nothing more elsewhere.
    assert cuda == (extras == ("gpu",) and platform == "linux x86_64"), [str(r) for r in found]


def test_setup_cfg_says_the_same_as_setup_py_for_a_fresh_environment():
    from setuptools.config.setupcfg import read_configuration

    options = read_configuration(ROOT / "setup.cfg")["options"]
    base, extras = SETUP.requirements(installed=set())
    assert base == [str(r) for r in options["install_requires"]]
    assert extras == {k: [str(r) for r in v] for k, v in options["extras_require"].items()}


@pytest.mark.parametrize("installed", [{"tensorflow"}, {"tensorflow", "tensorflow-cpu"}], ids=["tensorflow", "both"])
def test_setup_py_changes_nothing_unless_only_tensorflow_cpu_is_installed(installed):
    assert SETUP.requirements(installed=installed) == SETUP.requirements(installed=set())


@pytest.mark.parametrize("platform", ["linux x86_64", "windows amd64"])
def test_an_installed_tensorflow_cpu_is_kept_and_the_gpu_extra_refused(platform):
    """This machine and CI: tensorflow-cpu is installed; `pip install -e ".[test]"` must not add tensorflow."""
    base, extras = SETUP.requirements(installed={"tensorflow-cpu"})
    cpu = tensorflows(resolve(base, extras, platform))
    assert [canonical(r.name) for r in cpu] == ["tensorflow-cpu"] and installable(cpu), [str(r) for r in cpu]
    for extra in extras:
        assert all(canonical(r.name) != "tensorflow" for r in resolve(base, extras, platform, [extra])), extra
    gpu = tensorflows(resolve(base, extras, platform, ["gpu"]))
    if platform == "linux x86_64":
        # No tensorflow-cpu satisfies both: pip stops with a conflict naming "uninstall.tensorflow.cpu.first".
        assert not installable(gpu) and any("uninstall.tensorflow.cpu.first" in str(r) for r in gpu), gpu
    else:
        assert gpu == cpu


def test_requirement_rewriting_keeps_versions_extras_and_markers():
    keep = SETUP.keep_installed_cpu
    assert keep('tensorflow>=2.21,<2.22; python_version >= "3.10"', base=True) == \
        'tensorflow-cpu>=2.21,<2.22; python_version >= "3.10"'
    assert keep("TensorFlow[and-cuda] >=2.21", base=False) == SETUP.REFUSE_GPU_BESIDE_CPU
    assert keep('tensorflow[and-cuda]>=2.21; sys_platform == "linux"', base=False) == \
        f'{SETUP.REFUSE_GPU_BESIDE_CPU}; sys_platform == "linux"'
    for other in ("tensorflow-datasets>=4.9", "tensorboard", "keras>=3.15"):
        assert keep(other, base=True) == other


def test_setup_py_sees_the_tensorflow_this_interpreter_has():
    found = {canonical(d.metadata["Name"] or "") for d in importlib.metadata.distributions()}
    assert SETUP.installed_tensorflow() == found & {"tensorflow", "tensorflow-cpu"}


def test_this_environment_holds_exactly_one_tensorflow():
    """What CI ends with after `pip install -e ".[test]"`: one distribution owns tensorflow/."""
    owners = sorted({d.metadata["Name"] for d in importlib.metadata.distributions()
                     if any(f.parts[:1] == ("tensorflow",) for f in d.files or [])})
    assert len(owners) == 1, f"distributions writing tensorflow/: {owners} (docs/install.md: uninstall all, reinstall)"


def test_the_installed_metadata_names_the_installed_tensorflow():
    # The installed distribution's, not the tfgan_translate.egg-info a build may leave in the working tree
    # (python -m pytest puts the tree first on sys.path; another environment's build may have written it).
    paths = [p for p in sys.path if Path(p or ".").resolve() != ROOT]
    found = list(importlib.metadata.distributions(name="tfgan_translate", path=paths))
    if not found:
        pytest.skip("tfgan_translate is not installed (pip install -e .): no installed metadata to check")
    requires = found[0].requires or []
    env = {**default_environment(), "extra": ""}
    base = [Requirement(r) for r in requires]
    named = {canonical(r.name) for r in tensorflows(base) if r.marker is None or r.marker.evaluate(env)}
    installed = {canonical(d.metadata["Name"] or "") for d in importlib.metadata.distributions()}
    assert len(named) == 1 and named <= installed, (named, requires)


def test_pip_builds_the_metadata_setup_py_promises(tmp_path):
    """The real build, offline: `pip install --dry-run --report --no-deps --no-index --no-build-isolation`."""
    # Asked of the metadata: importlib.util.find_spec("pip") would trip setuptools' distutils hook (it switches
    # to the standard library's distutils once pip is looked up), and setup.py's setuptools import then fails.
    try:
        importlib.metadata.version("pip")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("pip is not installed in this environment")
    for name in ("setup.py", "setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, tmp_path / name)
    report = tmp_path / "report.json"
    env = {**os.environ, "PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1"}
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--report", str(report),
                           "--no-deps", "--no-index", "--no-build-isolation", str(tmp_path)],
                          capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    if done.returncode != 0 and "--report" in done.stderr and "no such option" in done.stderr:
        pytest.skip(f"this pip cannot write --report (pip >= 22.2 can): {done.stderr.strip()[-200:]}")
    assert done.returncode == 0, done.stderr[-3000:]
    [item] = json.loads(report.read_text())["install"]
    built = [Requirement(r) for r in item["metadata"]["requires_dist"]]
    base, extras = SETUP.requirements()
    for platform in PLATFORMS:
        for chosen in [(), *([extra] for extra in extras)]:
            from_pip = [r for r in built if r.marker is None
                        or any(r.marker.evaluate(environment(platform, e)) for e in ("", *chosen))]
            assert {key(r) for r in from_pip} == {key(r) for r in resolve(base, extras, platform, chosen)}, \
                (platform, chosen, item["metadata"]["requires_dist"])


def key(requirement: Requirement) -> tuple:
    return canonical(requirement.name), tuple(sorted(requirement.extras)), str(requirement.specifier)
