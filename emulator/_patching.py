"""Reversible monkey-patching of moto classes and modules."""

from __future__ import annotations

from typing import Any

_MISSING = object()
_originals: dict[tuple[Any, str], Any] = {}


def patch(owner: Any, name: str, value: Any) -> None:
    """Set ``owner.name`` and remember what was there (the class's own entry, or nothing)."""
    key = (owner, name)
    if key not in _originals:
        _originals[key] = vars(owner).get(name, _MISSING)
    setattr(owner, name, value)


def original(owner: Any, name: str) -> Any:
    """The value ``owner.name`` had before it was patched (or its current value)."""
    value = _originals.get((owner, name), _MISSING)
    return getattr(owner, name) if value is _MISSING else value


def unpatch_all() -> None:
    for (owner, name), value in list(_originals.items()):
        if value is _MISSING:
            delattr(owner, name)
        else:
            setattr(owner, name, value)
    _originals.clear()
