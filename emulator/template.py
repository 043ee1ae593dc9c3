"""Render the ASL template the way Terraform's ``templatefile`` does, for the subset we use.

The definition in ``asl/`` is a Terraform template that stays valid JSON: every
placeholder sits inside a JSON string (``"${vault_name}"``, or
``"States.StringToJson('${command_poll_seconds}')"`` for numbers), and a literal
``${`` is written ``$${``. ``render`` substitutes ``${name}`` with the variable's
value (JSON-escaped, since it lands inside a JSON string) and turns ``$${`` into
``${``; anything else that templatefile would interpret (``${`` expressions other
than a bare name, ``%{`` directives) is rejected, so the two renderers cannot drift.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

_TOKEN = re.compile(r"\$\$\{|%%\{|\$\{([^}]*)\}|%\{")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class TemplateError(ValueError):
    pass


def _names(text: str) -> list[str]:
    names = []
    for match in _TOKEN.finditer(text):
        found = match.group(0)
        if found in ("$${", "%%{"):
            continue
        if found == "%{":
            raise TemplateError(f"template directive at offset {match.start()} is not supported")
        name = match.group(1).strip()
        if not _NAME.match(name):
            raise TemplateError(f"unsupported template expression ${{{name}}}")
        names.append(name)
    return names


def placeholders(text: str) -> set[str]:
    """The variable names a template uses."""
    return set(_names(text))


def render(text: str, variables: Mapping[str, Any]) -> str:
    """Substitute ``${name}`` and unescape ``$${``; every used name must be given."""
    missing = placeholders(text) - set(variables)
    if missing:
        raise TemplateError(f"variables missing: {sorted(missing)}")

    def substitute(match: re.Match[str]) -> str:
        found = match.group(0)
        if found == "$${":
            return "${"
        if found == "%%{":
            return "%{"
        value = variables[match.group(1).strip()]
        # The placeholder sits inside a JSON string: escape as JSON would, minus the quotes.
        return json.dumps(str(value))[1:-1]

    return _TOKEN.sub(substitute, text)
