"""Generate the terraform-docs tables of every README: `make docs` (check: `make docs-check`).

terraform-docs cannot be installed here, so this writes what
``terraform-docs markdown table --output-mode inject`` writes with its default settings
(anchors, escaping and HTML on, sorted by name, no lock file): the Requirements,
Providers, Modules, Resources, Inputs and Outputs tables between
``<!-- BEGIN_TF_DOCS -->`` and ``<!-- END_TF_DOCS -->``, multi-line types and defaults
in ``<pre>`` with ``<br/>``. The module is read with a real HCL parser
(``scripts/tfmodule.py``), so a user running terraform-docs gets the same text.

usage: readme_tables.py [--check] [DIR ...]
  default DIRs: the root module, every modules/* and every examples/* directory.
  --check: change nothing; exit 1 and name the stale READMEs.
A README without the markers gets them appended (write mode) or is reported (--check).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `scripts` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.tfmodule import MISSING, HclError, Module, load, tf_files

ROOT = Path(__file__).resolve().parent.parent
BEGIN = "<!-- BEGIN_TF_DOCS -->"
END = "<!-- END_TF_DOCS -->"
# The markers of the generator this one replaced: rewritten to terraform-docs' own.
OLD_MARKERS = ("<!-- BEGIN_TF_TABLES -->", "<!-- END_TF_TABLES -->")
REGISTRY = "https://registry.terraform.io/providers"


def module_dirs(root: Path = ROOT) -> list[Path]:
    """The root module, modules/* and examples/*: every directory holding .tf files."""
    found = [root]
    for parent in ("modules", "examples"):
        found += sorted(d for d in (root / parent).glob("*") if d.is_dir() and tf_files(d))
    return found


# ---------------------------------------------------------------------- text, as terraform-docs
def _segments(text: str, fence: str, plain: Callable[[str], str], code: Callable[[str], str]):
    """Apply ``plain`` outside and ``code`` inside ``fence``-delimited segments."""
    inside = text.startswith(fence)
    out = []
    for segment in text.split(fence):
        if not segment:
            continue  # as terraform-docs: an empty segment does not toggle
        out.append(code(segment) if inside else plain(segment))
        inside = not inside
    return "".join(out)


_EMPHASIS = re.compile(r"([\t\n\f\r ]+)(_+)([^\t\n\f\r _])(.*)([^\t\n\f\r _])(_+)([\t\n\f\r ]+)")
_LEADING = re.compile(r"^([\t\n\f\r ]*)(_+)([\t\n\f\r ]+)(.*)")
_KEEP = "\x00"


def _escape_underscores(line: str) -> str:
    # Underscores that are markdown syntax (a leading "_ " or an " _emphasis_ ") stay.
    for pattern, groups in ((_LEADING, (2,)), (_EMPHASIS, (6, 2))):
        for match in reversed(list(pattern.finditer(line))):
            for group in groups:
                start, end = match.span(group)
                line = line[:start] + _KEEP * (end - start) + line[end:]
    return line.replace("_", "\\_").replace(_KEEP, "_")


_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s<>\"'`]+[^\s<>\"'`.,;:!?)\]]")


def _escape(text: str) -> str:
    text = _segments(text, "`", lambda s: s.replace("|", "\\|"), lambda s: f"`{s}`")
    text = _segments(
        text,
        "`",
        lambda s: "\n".join(_escape_underscores(line) for line in s.split("\n")),
        lambda s: f"`{s}`",
    )
    return _URL.sub(lambda m: m.group(0).replace("\\", ""), text)


_PARAGRAPH = re.compile(r"([^\t\n\f\r ]*)(\r?\n)([\t\n\f\r ]*)([0-9A-Za-z_]+)")


def _multiline(text: str) -> str:
    text = text.strip()
    text = _PARAGRAPH.sub(r"\1  \2\3\4", text)
    text = text.replace("    \n", "  \n").replace("  \n\n", "\n\n").replace("\n  \n", "\n\n")
    return text.replace("  \n", "<br/>").replace("\n", "<br/>")


def cell(text: str) -> str:
    """A table cell: terraform-docs' sanitizeMarkdownTbl with escaping and HTML on."""
    if text == "":
        return "n/a"

    def code(segment: str) -> str:
        return "<pre>" + segment.strip().replace("\n", "<br/>").replace("\r", "") + "</pre>"

    return _segments(text, "```", lambda s: _multiline(_escape(s)), code)


def fenced(code: str) -> str:
    """A type or a value: inline code, or a block when it spans lines."""
    return f"\n\n```\n{code}\n```\n" if "\n" in code else f"`{code}`"


def value(default: object) -> str:
    """A default as terraform-docs prints it: JSON, two-space indent, sorted keys."""
    if default is MISSING:
        return "n/a"
    return fenced(json.dumps(default, indent=2, sort_keys=True, ensure_ascii=False))


def name(text: str) -> str:
    return text.replace("_", "\\_")


def anchor(prefix: str, text: str) -> str:
    return f'<a name="{prefix}_{text}"></a> [{name(text)}](#{name(f"{prefix}_{text}")})'


# ---------------------------------------------------------------------- the tables
def _table(title: str, header: list[str], rows: list[list[str]], empty: str) -> list[str]:
    out = [f"## {title}", ""]
    if not rows:
        return [*out, empty]
    rules = {"Required": ":------:"}
    out.append("| " + " | ".join(header) + " |")
    out.append("| " + " | ".join(rules.get(h, "-" * len(h)) for h in header) + " |")
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return out


def _provider_source(module: Module, provider: str) -> str:
    return module.required_providers.get(provider, {}).get("source", f"hashicorp/{provider}")


def tables(module: Module) -> str:
    """The content terraform-docs puts between its markers for this module."""
    requirements = []
    if module.required_version:
        requirements.append([anchor("requirement", "terraform"), module.required_version])
    for provider in sorted(module.required_providers):
        version = module.required_providers[provider].get("version") or "n/a"
        requirements.append([anchor("requirement", provider), version])

    used = sorted({r.provider for r in module.resources})
    providers = [
        [anchor("provider", p), module.required_providers.get(p, {}).get("version") or "n/a"]
        for p in used
    ]

    calls = [
        [anchor("module", c.name), c.source, c.version or "n/a"]
        for c in sorted(module.module_calls, key=lambda c: c.name)
    ]

    def order(r):  # managed before data sources, then by type and name
        return (r.mode != "managed", r.type, r.name)

    resources = []
    for r in sorted(module.resources, key=order):
        kind = "resources" if r.mode == "managed" else "data-sources"
        short = r.type.split("_", 1)[1]
        url = f"{REGISTRY}/{_provider_source(module, r.provider)}/latest/docs/{kind}/{short}"
        mode = "resource" if r.mode == "managed" else "data source"
        resources.append([f"[{r.type}.{r.name}]({url})", mode])

    inputs = [
        [
            anchor("input", v.name),
            cell(v.description),
            cell(fenced(v.type)),
            cell(value(v.default)),
            "yes" if v.default is MISSING else "no",
        ]
        for v in sorted(module.variables, key=lambda v: v.name)
    ]
    outputs = [
        [anchor("output", o.name), cell(o.description)]
        for o in sorted(module.outputs, key=lambda o: o.name)
    ]

    sections = [
        _table("Requirements", ["Name", "Version"], requirements, "No requirements."),
        _table("Providers", ["Name", "Version"], providers, "No providers."),
        _table("Modules", ["Name", "Source", "Version"], calls, "No modules."),
        _table("Resources", ["Name", "Type"], resources, "No resources."),
        _table(
            "Inputs",
            ["Name", "Description", "Type", "Default", "Required"],
            inputs,
            "No inputs.",
        ),
        _table("Outputs", ["Name", "Description"], outputs, "No outputs."),
    ]
    return "\n\n".join("\n".join(section) for section in sections)


def render(readme: str, content: str) -> str:
    """The README with ``content`` between the markers (appended when it has none)."""
    for old, new in zip(OLD_MARKERS, (BEGIN, END), strict=True):
        readme = readme.replace(old, new)
    block = f"{BEGIN}\n{content}\n{END}"
    if BEGIN not in readme or END not in readme:
        return readme.rstrip("\n") + "\n\n" + block + "\n"
    head, rest = readme.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{block}{tail}"


# ---------------------------------------------------------------------- command line
def update(directories: Iterable[Path], check: bool) -> list[str]:
    """Problems found (check) or fixed nothing; READMEs rewritten otherwise."""
    problems = []
    for directory in directories:
        readme_path = directory / "README.md"
        label = str(
            readme_path.relative_to(ROOT) if readme_path.is_relative_to(ROOT) else readme_path
        )
        if not readme_path.exists():
            problems.append(f"{label} is missing: write what the module does, then run make docs")
            continue
        try:
            wanted_tables = tables(load(directory))
        except HclError as error:
            problems.append(f"{label}: {error}")
            continue
        current = readme_path.read_text()
        wanted = render(current, wanted_tables)
        if current == wanted:
            continue
        if check:
            missing = BEGIN not in current and OLD_MARKERS[0] not in current
            problems.append(f"{label}: {'no ' + BEGIN + ' markers' if missing else 'stale tables'}")
        else:
            readme_path.write_text(wanted)
            print(f"updated {label}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if a README is stale")
    parser.add_argument("dirs", nargs="*", type=Path)
    args = parser.parse_args(argv)
    directories = [d.resolve() for d in args.dirs] or module_dirs()
    problems = update(directories, args.check)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems and args.check:
        print("run `make docs` to regenerate the README tables", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
