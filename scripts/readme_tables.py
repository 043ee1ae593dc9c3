"""Generate the README's Requirements / Providers / Inputs / Outputs tables.

The tables sit between `<!-- BEGIN_TF_TABLES -->` and `<!-- END_TF_TABLES -->` in
a module's README.md (terraform-docs layout). `--check` fails when the README is
out of step with variables.tf / outputs.tf / versions.tf, so the tables cannot
drift from the code.

usage: readme_tables.py [--check] [MODULE_DIR ...]   (default: the root module)
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

BEGIN = "<!-- BEGIN_TF_TABLES -->"
END = "<!-- END_TF_TABLES -->"


@dataclass
class Block:
    kind: str
    name: str
    body: str


def _blocks(text: str, kind: str) -> list[Block]:
    """Top-level `kind "name" { ... }` blocks, matched by brace depth."""
    blocks = []
    for match in re.finditer(rf'^{kind}\s+"([^"]+)"\s*\{{', text, re.MULTILINE):
        depth, i = 1, match.end()
        in_string = False
        while depth and i < len(text):
            ch = text[i]
            if in_string:
                if ch == "\\":
                    i += 1
                elif ch == '"':
                    in_string = False
            elif ch == '"':
                in_string = True
            elif ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            i += 1
        blocks.append(Block(kind, match.group(1), text[match.end() : i - 1]))
    return blocks


def _attribute(body: str, name: str) -> str | None:
    """The raw expression of a top-level attribute of a block body."""
    lines = body.splitlines()
    for idx, line in enumerate(lines):
        m = re.match(rf"^  {name}\s*=\s*(.*)$", line)
        if not m:
            continue
        first = m.group(1)
        heredoc = re.match(r"^<<-?(\w+)$", first)
        if heredoc:
            out = []
            for follow in lines[idx + 1 :]:
                if follow.strip() == heredoc.group(1):
                    break
                out.append(follow.strip())
            return "\n".join(out)
        # Multi-line expression: take following lines until brackets balance.
        expr, balance = [first], first.count("{") + first.count("(") + first.count("[")
        balance -= first.count("}") + first.count(")") + first.count("]")
        for follow in lines[idx + 1 :]:
            if balance <= 0:
                break
            expr.append(follow.strip())
            balance += follow.count("{") + follow.count("(") + follow.count("[")
            balance -= follow.count("}") + follow.count(")") + follow.count("]")
        return " ".join(expr)
    return None


def _string(expr: str | None) -> str:
    if expr is None:
        return ""
    expr = expr.strip()
    if expr.startswith('"') and expr.endswith('"'):
        return expr[1:-1].replace('\\"', '"')
    return expr


def _cell(text: str) -> str:
    text = text.replace(":\n- ", ": ").replace("\n- ", "; ").replace("\n", " ")
    text = re.sub(r"\s+", " ", text).strip()
    return text.replace("|", "\\|")


def _code(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return f"`{text}`".replace("|", "\\|") if text else ""


def tables(module: Path) -> str:
    variables = _blocks((module / "variables.tf").read_text(), "variable")
    outputs = _blocks((module / "outputs.tf").read_text(), "output")
    versions = (module / "versions.tf").read_text()
    required = re.search(r'required_version\s*=\s*"([^"]+)"', versions)
    aws = re.search(r'aws\s*=\s*\{[^}]*version\s*=\s*"([^"]+)"', versions, re.DOTALL)

    out = ["## Requirements", "", "| Name | Version |", "|------|---------|"]
    if required:
        out.append(f"| terraform | {required.group(1)} |")
    if aws:
        out.append(f"| aws | {aws.group(1)} |")
    out += ["", "## Providers", "", "| Name | Version |", "|------|---------|"]
    if aws:
        out.append(f"| aws | {aws.group(1)} |")
    out += [
        "",
        "## Inputs",
        "",
        "| Name | Description | Type | Default | Required |",
        "|------|-------------|------|---------|:--------:|",
    ]
    for v in variables:
        description = _cell(_string(_attribute(v.body, "description")))
        vtype = _code(_attribute(v.body, "type") or "any")
        default = _attribute(v.body, "default")
        required_cell = "yes" if default is None else "no"
        out.append(
            f"| {v.name} | {description} | {vtype} | {_code(default or '')} | {required_cell} |"
        )
    out += ["", "## Outputs", "", "| Name | Description |", "|------|-------------|"]
    for o in outputs:
        out.append(f"| {o.name} | {_cell(_string(_attribute(o.body, 'description')))} |")
    return "\n".join(out) + "\n"


def render(readme: str, generated: str) -> str:
    if BEGIN not in readme or END not in readme:
        raise ValueError(f"README has no {BEGIN} ... {END} section")
    head, rest = readme.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{generated}{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if a README is stale")
    parser.add_argument("modules", nargs="*", type=Path, default=[Path(".")])
    args = parser.parse_args(argv)
    stale = []
    for module in args.modules:
        readme_path = module / "README.md"
        current = readme_path.read_text()
        wanted = render(current, tables(module))
        if current != wanted:
            if args.check:
                stale.append(str(readme_path))
            else:
                readme_path.write_text(wanted)
                print(f"updated {readme_path}")
    if stale:
        print(
            "stale README tables (run: python scripts/readme_tables.py "
            + " ".join(str(m) for m in args.modules)
            + "): "
            + ", ".join(stale),
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
