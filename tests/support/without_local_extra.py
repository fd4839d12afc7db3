"""``pytest -p without_local_extra`` (with tests/support/ on PYTHONPATH): run the suite as an install without the
``local`` extra sees it, with llama-cpp-python and gguf made unimportable. Tests that need them must skip."""

from __future__ import annotations

import importlib.abc
import sys

BLOCKED = ("llama_cpp", "gguf")


class _Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r} (blocked by without_local_extra)", name=name)
        return None


sys.meta_path.insert(0, _Blocker())
