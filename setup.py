"""Packaging: the metadata lives in setup.cfg; this file only keeps an installed `tensorflow-cpu`.

`tensorflow` and `tensorflow-cpu` are two distributions of one import package (the `tensorflow/`
folder). setup.cfg requires `tensorflow` on every platform, and its `gpu` extra `tensorflow[and-cuda]`,
the same distribution with NVIDIA's CUDA libraries: one TensorFlow for a CPU or a GPU install
(docs/install.md). Where `tensorflow-cpu` is installed already and `tensorflow` is not (a CPU image,
this project's CI), pip would install `tensorflow` beside it: two distributions writing one folder.
There, and only there, the built metadata requires `tensorflow-cpu` instead, and the `gpu` extra
requires a `tensorflow-cpu` release that does not exist (`REFUSE_GPU_BESIDE_CPU`), so that
`pip install ".[gpu]"` stops with a conflict that names the way out (uninstall tensorflow-cpu first)
rather than installing a second TensorFlow.

The installed distributions are those that the interpreter running this build imports from outside
pip's build isolation: a child process of it without pip's PYTHONPATH and PYTHONNOUSERSITE. A build
in another environment (a wheel built elsewhere, uv's build environments) sees none and keeps
setup.cfg's requirements. pip never caches an editable build, so `pip install -e .` decides afresh each
time (a wheel built once and installed elsewhere keeps what its build saw).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
TENSORFLOW, TENSORFLOW_CPU = "tensorflow", "tensorflow-cpu"
# A local version no index publishes: with `tensorflow-cpu>=2.21,<2.22` from the base requirements, pip reports
# a conflict naming both requirements, and this one says what to do.
REFUSE_GPU_BESIDE_CPU = "tensorflow-cpu==0+uninstall.tensorflow.cpu.first"

_REQUIREMENT = re.compile(r"\s*(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[(?P<extras>[^\]]*)\])?(?P<rest>.*)", re.S)
_LIST_DISTRIBUTIONS = ("import importlib.metadata as m, json; "
                       "print(json.dumps(sorted({d.metadata['Name'] or '' for d in m.distributions()})))")


def canonical(name: str) -> str:
    """PEP 503 normal form: `TensorFlow_CPU` -> `tensorflow-cpu`."""
    return re.sub(r"[-_.]+", "-", name).lower()


def installed_tensorflow(python: str = sys.executable) -> set[str]:
    """The TensorFlow distributions (`tensorflow`, `tensorflow-cpu`) that `python` imports from, as installed.

    Asked of a child process without pip's PYTHONPATH / PYTHONNOUSERSITE, so that pip's isolated build
    environment does not hide the environment being installed into. Empty if the child fails.
    """
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONNOUSERSITE")}
    try:
        done = subprocess.run([python, "-c", _LIST_DISTRIBUTIONS], env=env, capture_output=True, text=True,
                              timeout=120, check=True)
        names = json.loads(done.stdout.strip().splitlines()[-1])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return set()
    return {canonical(name) for name in names} & {TENSORFLOW, TENSORFLOW_CPU}


def _split(requirement: str):
    match = _REQUIREMENT.fullmatch(requirement)
    if not match:
        return None, set(), requirement
    extras = {canonical(e.strip()) for e in (match["extras"] or "").split(",") if e.strip()}
    return canonical(match["name"]), extras, match["rest"]


def keep_installed_cpu(requirement: str, *, base: bool) -> str:
    """One requirement as it reads where `tensorflow-cpu` (and not `tensorflow`) is installed.

    `tensorflow...` becomes `tensorflow-cpu...` (same extras, versions and markers), except that an
    extra's `tensorflow[and-cuda]` becomes `REFUSE_GPU_BESIDE_CPU` (keeping its markers): the CPU build
    cannot use the CUDA libraries, and the GPU build cannot go beside it. Other requirements are unchanged.
    """
    name, extras, rest = _split(requirement)
    if name != TENSORFLOW:
        return requirement
    if "and-cuda" in extras and not base:
        marker = rest.partition(";")[2].strip()
        return f"{REFUSE_GPU_BESIDE_CPU}; {marker}" if marker else REFUSE_GPU_BESIDE_CPU
    bracket = f"[{','.join(sorted(extras))}]" if extras else ""
    return f"{TENSORFLOW_CPU}{bracket}{rest}"


def adapt(install_requires, extras_require, installed) -> tuple[list[str], dict[str, list[str]]]:
    """setup.cfg's requirements for an environment where the TensorFlow distributions `installed` are.

    Unchanged unless `installed` is exactly {"tensorflow-cpu"} (see the module docstring).
    """
    install_requires = [str(r) for r in install_requires]
    extras_require = {extra: [str(r) for r in reqs] for extra, reqs in dict(extras_require).items()}
    if set(installed) != {TENSORFLOW_CPU}:
        return install_requires, extras_require
    return ([keep_installed_cpu(r, base=True) for r in install_requires],
            {extra: [keep_installed_cpu(r, base=False) for r in reqs] for extra, reqs in extras_require.items()})


def requirements(installed=None) -> tuple[list[str], dict[str, list[str]]]:
    """setup.cfg's install_requires and extras_require, adapted to `installed` (default: as installed now)."""
    from setuptools.config.setupcfg import read_configuration

    options = read_configuration(HERE / "setup.cfg")["options"]
    installed = installed_tensorflow() if installed is None else installed
    return adapt(options.get("install_requires", []), options.get("extras_require", {}), installed)


if __name__ == "__main__":
    from setuptools import setup

    install_requires, extras_require = requirements()
    # Given here, these replace setup.cfg's own lists (setuptools skips an option that setup() was given).
    setup(install_requires=install_requires, extras_require=extras_require)
