"""A Terraform module directory as data, from a real HCL parse (python-hcl2).

    from scripts.tfmodule import load

    module = load(Path("modules/vault"))
    module.variables, module.outputs, module.resources, module.module_calls,
    module.required_version, module.required_providers

What terraform-docs reads (through terraform-config-inspect) is read here the same way:
a variable's type is the source text of its expression, as written; its default is the
literal value (not converted to the type); strings are HCL strings, escapes and heredocs
evaluated. Used by ``scripts/readme_tables.py`` (the README tables) and by the provider
floor check (``scripts/provider_floor.py``).
"""

from __future__ import annotations

import copy
import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hcl2
from hcl2.utils import SerializationOptions
from lark import Tree


class _Missing:
    """A variable without a default (required): one object, copies included."""

    def __repr__(self) -> str:
        return "MISSING"

    def __copy__(self) -> _Missing:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> _Missing:
        return self


MISSING: Any = _Missing()

_OPTIONS = SerializationOptions(with_comments=False)


class HclError(ValueError):
    """A file that is not valid HCL, or a construct terraform-docs could not read either."""


@dataclass
class Variable:
    name: str
    description: str
    type: str  # source text of the type expression, "any" when absent
    default: Any  # JSON-able literal, None for null, MISSING when required
    path: Path


@dataclass
class Output:
    name: str
    description: str
    path: Path


@dataclass
class Resource:
    mode: str  # "managed" or "data"
    type: str  # e.g. aws_iam_role
    name: str
    arguments: set[str]  # argument and block paths it sets, e.g. logging_config.log_format
    path: Path

    @property
    def provider(self) -> str:
        return self.type.split("_", 1)[0]


@dataclass
class ModuleCall:
    name: str
    source: str
    version: str | None


@dataclass
class Module:
    path: Path
    variables: list[Variable] = field(default_factory=list)
    outputs: list[Output] = field(default_factory=list)
    resources: list[Resource] = field(default_factory=list)
    module_calls: list[ModuleCall] = field(default_factory=list)
    required_version: str | None = None
    required_providers: dict[str, dict[str, str]] = field(default_factory=dict)


# ---------------------------------------------------------------------- strings
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}


def _unescape_quoted(body: str) -> str:
    """The value of an HCL quoted string's body (escapes, $${ and %%{)."""
    out, i = [], 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
                i += 2
                continue
            width = {"u": 4, "U": 8}.get(nxt)
            if width:
                out.append(chr(int(body[i + 2 : i + 2 + width], 16)))
                i += 2 + width
                continue
        if body.startswith(("$${", "%%{"), i):
            out.append(body[i + 1 : i + 3])
            i += 3
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _heredoc(raw: str) -> str:
    """The value of ``<<EOT`` / ``<<-EOT`` heredoc text (markers included)."""
    first, _, rest = raw.partition("\n")
    marker = first.lstrip("<-").strip()
    lines = rest.split("\n")
    if lines and lines[-1].strip() == marker:
        lines = lines[:-1]
    if first.startswith("<<-"):
        # HCL removes the indentation of the least indented non-blank line.
        indents = [len(line) - len(line.lstrip(" \t")) for line in lines if line.strip()]
        cut = min(indents, default=0)
        lines = [line[cut:] for line in lines]
    text = "\n".join(lines) + "\n"
    return text.replace("$${", "${").replace("%%{", "%{")


def string_value(value: Any, what: str) -> str:
    """A literal string attribute as python-hcl2 serialises it, evaluated."""
    if not isinstance(value, str) or not (value.startswith('"') and value.endswith('"')):
        raise HclError(f"{what} must be a literal string, got {value!r}")
    body = value[1:-1]
    if body.startswith("<<"):
        return _heredoc(body)
    if "${" in body.replace("$${", "") or "%{" in body.replace("%%{", ""):
        raise HclError(f"{what} must be a literal string, not a template: {value!r}")
    return _unescape_quoted(body)


def literal(value: Any, what: str) -> Any:
    """A literal value (a variable's default) as JSON-able data."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        if value.startswith("${"):
            raise HclError(f"{what} must be a literal value, got the expression {value!r}")
        return string_value(value, what)
    if isinstance(value, list):
        return [literal(item, what) for item in value]
    if isinstance(value, dict):
        return {
            _label(key): literal(item, what)
            for key, item in value.items()
            if not key.startswith("__")
        }
    raise HclError(f"{what}: unexpected value {value!r}")


def _label(key: str) -> str:
    return key[1:-1] if len(key) >= 2 and key.startswith('"') and key.endswith('"') else key


# ---------------------------------------------------------------------- source slices
def _type_texts(text: str) -> dict[str, str]:
    """Each variable's type expression as written (what terraform-docs shows)."""
    try:
        tree = hcl2.parses_to_tree(text)
    except Exception as error:  # lark raises several unrelated exception types
        raise HclError(str(error)) from error
    types: dict[str, str] = {}
    for block in tree.find_data("block"):
        parts = [c for c in block.children if isinstance(c, Tree)]
        if not parts or _token_text(parts[0]) != "variable" or len(parts) < 3:
            continue
        name = _token_text(parts[1]).strip('"')
        body = parts[-1]
        for attribute in body.children:
            if not isinstance(attribute, Tree) or attribute.data != "attribute":
                continue
            trees = [c for c in attribute.children if isinstance(c, Tree)]
            if _token_text(trees[0]) == "type":
                expr = trees[-1]
                types[name] = text[expr.meta.start_pos : expr.meta.end_pos].strip()
    return types


def _token_text(node: Tree) -> str:
    return "".join(str(token) for token in node.scan_values(lambda _: True))


# ---------------------------------------------------------------------- module
def _argument_paths(body: dict[str, Any], prefix: str = "") -> set[str]:
    paths: set[str] = set()
    for key, value in body.items():
        if key.startswith("__"):
            continue
        blocks = (
            isinstance(value, list)
            and value
            and all(isinstance(item, dict) and item.get("__is_block__") for item in value)
        )
        if key == "dynamic" and isinstance(value, list):
            # dynamic "name" { content { ... } }: the block the module really sets
            # (python-hcl2 marks the labelled body as a block, not the list's items)
            for item in value:
                for label, dyn in item.items():
                    if label.startswith("__"):
                        continue
                    path = prefix + _label(label)
                    paths.add(path)
                    for content in dyn.get("content", []):
                        paths |= _argument_paths(content, path + ".")
        elif blocks:
            paths.add(prefix + key)
            for item in value:
                paths |= _argument_paths(item, prefix + key + ".")
        else:
            paths.add(prefix + key)
    return paths


_META_ARGUMENTS = {"count", "for_each", "depends_on", "provider", "lifecycle"}


def tf_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.glob("*.tf") if p.is_file())


def _labelled(data: dict[str, Any], kind: str):
    """(label, body) of each ``kind "label" { ... }`` block."""
    for item in data.get(kind, []):
        for label, body in item.items():
            if not label.startswith("__"):
                yield _label(label), body


def _optional_string(body: dict[str, Any], key: str, what: str) -> str | None:
    return string_value(body[key], what) if body.get(key) is not None else None


def _read_file(module: Module, path: Path) -> None:
    text = path.read_text()
    try:
        data = hcl2.loads(text, serialization_options=_OPTIONS)
    except Exception as error:  # lark raises several unrelated exception types
        raise HclError(f"{path}: not valid HCL: {error}") from error
    types = _type_texts(text)
    for name, body in _labelled(data, "variable"):
        what = f"{path}: var.{name}"
        default = literal(body["default"], f"{what} default") if "default" in body else MISSING
        module.variables.append(
            Variable(
                name=name,
                description=_optional_string(body, "description", f"{what} description") or "",
                type=types.get(name, "any"),
                default=default,
                path=path,
            )
        )
    for name, body in _labelled(data, "output"):
        description = _optional_string(body, "description", f"{path}: output.{name}")
        module.outputs.append(Output(name, description or "", path))
    for kind, mode in (("resource", "managed"), ("data", "data")):
        for rtype, named in _labelled(data, kind):
            for rname, body in named.items():
                if rname.startswith("__"):
                    continue
                arguments = {
                    p for p in _argument_paths(body) if p.split(".", 1)[0] not in _META_ARGUMENTS
                }
                module.resources.append(Resource(mode, rtype, _label(rname), arguments, path))
    for name, body in _labelled(data, "module"):
        what = f"{path}: module.{name}"
        if "source" not in body:  # an override file's module block: not a module call
            continue
        source = string_value(body.get("source"), f"{what} source")
        module.module_calls.append(
            ModuleCall(name, source, _optional_string(body, "version", f"{what} version"))
        )
    for block in data.get("terraform", []):
        _read_terraform_block(module, block, path)


def _read_terraform_block(module: Module, block: dict[str, Any], path: Path) -> None:
    version = _optional_string(block, "required_version", f"{path}: required_version")
    module.required_version = version or module.required_version
    for providers in block.get("required_providers", []):
        for name, spec in providers.items():
            if name.startswith("__") or not isinstance(spec, dict):
                continue
            module.required_providers[name] = {
                key: string_value(value, f"{path}: required_providers.{name}.{key}")
                for key, value in spec.items()
                if key in ("source", "version")
            }


def load(directory: Path) -> Module:
    """Every ``*.tf`` of one module directory (not its subdirectories)."""
    files = tf_files(directory)
    if not files:
        raise HclError(f"{directory}: no .tf files")
    # The parse is slow (lark): reuse it while no file of the directory has changed.
    key = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files)
    return copy.deepcopy(_load(directory, key))


@functools.lru_cache(maxsize=64)
def _load(directory: Path, key: tuple[tuple[str, int, int], ...]) -> Module:
    module = Module(path=directory)
    for path, _mtime, _size in key:
        _read_file(module, Path(path))
    return module


_VERSION = re.compile(r"(\d+)\.(\d+)(?:\.(\d+))?")


def version_floor(constraint: str | None) -> tuple[int, int, int] | None:
    """The lower bound of a ``>= X.Y[.Z]`` constraint, as a tuple."""
    if not constraint:
        return None
    match = re.search(r">=\s*" + _VERSION.pattern, constraint)
    if not match:
        return None
    return (int(match.group(1)), int(match.group(2)), int(match.group(3) or 0))
