"""Packages whose public names are imported on first use, so that `import tfgan_translate` (and the CLI's
`--help`) stays fast and light modules do not load TensorFlow.

Example:

>>> _EXPORTS = {"train": "tfgan_translate.training.run"}  # in a package's __init__.py  # doctest: +SKIP
>>> __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
import sys


def lazy_exports(package: str, exports: dict[str, str]):
    """The module-level `__getattr__` and `__dir__` of `package` for {public name: module that defines it}.

    A name is imported from its module when first asked for, then cached in the package's namespace.
    """
    namespace = vars(sys.modules[package])

    def __getattr__(name: str):  # noqa: N807  (the module hook PEP 562 names)
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        namespace[name] = getattr(importlib.import_module(exports[name]), name)
        return namespace[name]

    def __dir__():  # noqa: N807
        return sorted(set(namespace) | set(exports))

    return __getattr__, __dir__
