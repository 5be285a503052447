"""A module that is imported on its first attribute access.

The estimator modules (``rlvr_repro.advantages``) declare their name, parameters and needs when they
are imported, and the workflow reads those declarations while it plans the DAG on a login node, where
importing torch would cost seconds and hundreds of MB for nothing. So they reach torch through
``torch = lazy_module("torch")``: the first ``torch.<name>`` imports torch, and every later access of
that name is an ordinary attribute lookup.
"""

from __future__ import annotations

import importlib
import types


class _LazyModule(types.ModuleType):
    def __getattr__(self, name: str):
        value = getattr(importlib.import_module(self.__name__), name)
        setattr(self, name, value)  # cached: the next access never reaches __getattr__
        return value


def lazy_module(name: str) -> types.ModuleType:
    """``name``'s module, imported when one of its attributes is first read."""
    return _LazyModule(name)
