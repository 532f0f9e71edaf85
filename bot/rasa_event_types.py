"""A Rasa 3.6 override: finding an event's class by its name without walking the class tree.

Rasa turns every stored event back into an object with ``Event.resolve_by_type(name)``, which
lists all subclasses of ``Event`` (recursively, with an ``inspect.isabstract`` check on each)
and scans them, for every event. Reading a tracker of a few dozen events did that a few dozen
times: 7-8% of the Rasa server's samples under `make bench-chat` (py-spy), about 15% of its
CPU per turn.

The override keeps a name -> class table built by the same walk, in the same order (the first
class with a name wins, as in Rasa's scan). A name not in the table rebuilds it once (an event
class imported after the first lookup) and then falls back to Rasa's own behaviour (``topic``,
the default, or its ValueError). ``tests/bot/test_rasa_patches.py`` checks that every event
name resolves to the class Rasa's own method returns.
"""

from __future__ import annotations

import rasa.shared.utils.common
from rasa.shared.core.events import Event

# Rasa's own method, kept for the equivalence test.
original_resolve_by_type = Event.__dict__["resolve_by_type"].__func__

_by_name: dict[str, type[Event]] = {}


def _rebuild() -> None:
    table: dict[str, type[Event]] = {}
    for cls in rasa.shared.utils.common.all_subclasses(Event):
        table.setdefault(cls.type_name, cls)
    _by_name.clear()
    _by_name.update(table)


def resolve_by_type(
    type_name: str, default: type[Event] | None = None
) -> type[Event] | None:
    """Rasa's ``Event.resolve_by_type``, from the table."""
    cls = _by_name.get(type_name)
    if cls is not None:
        return cls
    _rebuild()
    cls = _by_name.get(type_name)
    if cls is not None:
        return cls
    return original_resolve_by_type(type_name, default)


def apply() -> None:
    Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[method-assign]
