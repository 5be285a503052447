"""Filters for log noise that says nothing about a run, each matched precisely.

Every local job imports verl (its loss functions, its config classes). On import verl warns once per
optional training engine it cannot load (torchtitan, veomni, automodel, mindspeed, megatron: five
``UserWarning``s that concern engines we never use), and on a CPU-only machine its platform manager
logs that no accelerator was found. Those lines buried the run's own messages. Only these exact
messages are dropped; every other verl warning still shows.
"""

from __future__ import annotations

import logging
import warnings

_ENGINE_WARNING = r"(torchtitan|veomni|automodel|mindspeed|megatron) engine is not available: ModuleNotFoundError"
_PLATFORM_LOGGER = "verl.plugin.platform.platform_manager"
_PLATFORM_MESSAGES = ("No supported accelerator detected", "is registered but not available")


class _DropMessages(logging.Filter):
    def __init__(self, fragments: tuple[str, ...]):
        super().__init__()
        self.fragments = fragments

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not any(f in message for f in self.fragments)


def silence_known_noise() -> None:
    """Install the filters (idempotent)."""
    warnings.filterwarnings("ignore", message=_ENGINE_WARNING, category=UserWarning)
    platform = logging.getLogger(_PLATFORM_LOGGER)
    if not any(isinstance(f, _DropMessages) for f in platform.filters):
        platform.addFilter(_DropMessages(_PLATFORM_MESSAGES))
