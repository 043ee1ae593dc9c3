"""Every README's tables are terraform-docs' tables of its module, and stay so.

The rendering rules checked in ``test_renders_like_terraform_docs`` are those of
terraform-docs' ``markdown table`` (its reference page and golden files, default
settings): anchors, ``\\_`` outside code, ``\\|``, ``<br/>`` line breaks, multi-line
types and JSON defaults in ``<pre>``, ``n/a`` for a missing description or default,
inputs and outputs sorted by name, managed resources before data sources.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from scripts import readme_tables
from scripts.tfmodule import HclError, load

ROOT = Path(__file__).resolve().parent.parent
DIRS = readme_tables.module_dirs(ROOT)


def _id(path: Path) -> str:
    return str(path.relative_to(ROOT)) or "."


def test_every_module_and_example_is_covered():
    names = {_id(d) for d in DIRS}
    assert "." in names
    assert {f"modules/{p.parent.name}" for p in ROOT.glob("modules/*/*.tf")} <= names
    assert {f"examples/{p.parent.name}" for p in ROOT.glob("examples/*/*.tf")} <= names


@pytest.mark.parametrize("directory", DIRS, ids=_id)
def test_readme_tables_are_current(directory: Path):
    problems = readme_tables.update([directory], check=True)
    assert not problems, f"{problems}: run `make docs`"


@pytest.mark.parametrize("directory", DIRS, ids=_id)
def test_every_variable_and_output_has_its_row(directory: Path):
    readme = (directory / "README.md").read_text()
    module = load(directory)
    rows = [("input", v.name) for v in module.variables]
    rows += [("output", o.name) for o in module.outputs]
    missing = [f"{k} {n}" for k, n in rows if f'<a name="{k}_{n}"></a>' not in readme]
    assert not missing, f"{directory / 'README.md'} has no row for {missing}"


def _copy_module(source: Path, into: Path) -> Path:
    shutil.copytree(source, into, ignore=shutil.ignore_patterns(".terraform*", "tests"))
    return into


def test_the_check_notices_a_change_and_the_generator_mends_it(tmp_path: Path):
    module = _copy_module(ROOT / "modules" / "notifications", tmp_path / "notifications")
    assert readme_tables.update([module], check=True) == []
    with (module / "variables.tf").open("a") as f:
        f.write(
            '\nvariable "brand_new" {\n  description = "New | shiny."\n'
            "  type = object({\n    a = string\n  })\n}\n"
        )
    with (module / "outputs.tf").open("a") as f:
        f.write('\noutput "fresh" {\n  description = "Fresh."\n  value       = 1\n}\n')
    with (module / "main.tf").open("a") as f:
        f.write('\nresource "aws_sqs_queue" "extra" {\n  name = "x"\n}\n')
        f.write('\nmodule "child" {\n  source  = "example/child/aws"\n  version = "1.2.3"\n}\n')

    problems = readme_tables.update([module], check=True)
    assert problems
    assert "stale tables" in problems[0]
    assert readme_tables.update([module], check=False) == []
    assert readme_tables.update([module], check=True) == []
    readme = (module / "README.md").read_text()
    assert (
        '| <a name="input_brand_new"></a> [brand\\_new](#input\\_brand\\_new) | New \\| shiny. '
        "| <pre>object({<br/>    a = string<br/>  })</pre> | n/a | yes |"
    ) in readme
    assert '| <a name="output_fresh"></a> [fresh](#output\\_fresh) | Fresh. |' in readme
    assert (
        "| [aws_sqs_queue.extra](https://registry.terraform.io/providers/hashicorp/aws/latest/"
        "docs/resources/sqs_queue) | resource |"
    ) in readme
    assert (
        '| <a name="module_child"></a> [child](#module\\_child) | example/child/aws | 1.2.3 |'
        in readme
    )


def test_old_markers_are_replaced_and_missing_ones_appended(tmp_path: Path):
    module = _copy_module(ROOT / "modules" / "vault", tmp_path / "vault")
    readme = (module / "README.md").read_text()
    body = readme.split(readme_tables.BEGIN)[0]
    old = "<!-- BEGIN_TF_TABLES -->\nold\n<!-- END_TF_TABLES -->\n"
    (module / "README.md").write_text(body + old)
    assert readme_tables.update([module], check=True)
    readme_tables.update([module], check=False)
    assert (module / "README.md").read_text() == readme

    (module / "README.md").write_text("# Vault\n")
    assert "markers" in readme_tables.update([module], check=True)[0]
    readme_tables.update([module], check=False)
    assert (module / "README.md").read_text().startswith("# Vault\n\n<!-- BEGIN_TF_DOCS -->\n")


FIXTURE = r"""
terraform {
  required_version = ">= 1.9"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.32"
    }
  }
}

data "aws_caller_identity" "current" {}

resource "aws_sns_topic" "this" {
  name = "t"
}

resource "aws_iam_role" "b" {
  name = "r"
}

variable "zeta_required" {
  type = string
}

variable "long_type" {
  description = <<-EOT
    First line mentions policy_json.
    - a list item with `code_span`
  EOT
  type = object({
    name = string
    tags = map(string)
  })
  default = {
    name = "hello"
    tags = { b = "2", a = "1" }
  }
}

variable "with_pipe" {
  description = "One | two, see https://example.com/a_b_c."
  type        = string
  default     = "v1"
}

variable "special" {
  description = ""
  type        = string
  default     = "\\.<>[]{}_-"
}

variable "nothing" {
  description = "Null by default."
  type        = list(string)
  default     = null
}

variable "untyped" {
  default = 15.75
}

output "b_out" {
  description = "Second."
  value       = 2
}

output "a_out" {
  value = 1
}
"""


def test_renders_like_terraform_docs(tmp_path: Path):
    (tmp_path / "main.tf").write_text(FIXTURE)
    content = readme_tables.tables(load(tmp_path))
    expected = "\n".join(
        [
            "## Requirements",
            "",
            "| Name | Version |",
            "| ---- | ------- |",
            '| <a name="requirement_terraform"></a> [terraform](#requirement\\_terraform) '
            "| >= 1.9 |",
            '| <a name="requirement_aws"></a> [aws](#requirement\\_aws) | >= 5.32 |',
            "",
            "## Providers",
            "",
            "| Name | Version |",
            "| ---- | ------- |",
            '| <a name="provider_aws"></a> [aws](#provider\\_aws) | >= 5.32 |',
            "",
            "## Modules",
            "",
            "No modules.",
            "",
            "## Resources",
            "",
            "| Name | Type |",
            "| ---- | ---- |",
            "| [aws_iam_role.b](https://registry.terraform.io/providers/hashicorp/aws/latest/docs/"
            "resources/iam_role) | resource |",
            "| [aws_sns_topic.this](https://registry.terraform.io/providers/hashicorp/aws/latest/"
            "docs/resources/sns_topic) | resource |",
            "| [aws_caller_identity.current](https://registry.terraform.io/providers/hashicorp/aws/"
            "latest/docs/data-sources/caller_identity) | data source |",
            "",
            "## Inputs",
            "",
            "| Name | Description | Type | Default | Required |",
            "| ---- | ----------- | ---- | ------- | :------: |",
            '| <a name="input_long_type"></a> [long\\_type](#input\\_long\\_type) | First line '
            "mentions policy\\_json.<br/>- a list item with `code_span` | <pre>object({<br/>    "
            "name = string<br/>    tags = map(string)<br/>  })</pre> | <pre>{<br/>  "
            '"name": "hello",<br/>  "tags": {<br/>    "a": "1",<br/>    "b": "2"<br/>  }<br/>'
            "}</pre> | no |",
            '| <a name="input_nothing"></a> [nothing](#input\\_nothing) | Null by default. | '
            "`list(string)` | `null` | no |",
            '| <a name="input_special"></a> [special](#input\\_special) | n/a | `string` | '
            '`"\\\\.<>[]{}_-"` | no |',
            '| <a name="input_untyped"></a> [untyped](#input\\_untyped) | n/a | `any` | `15.75` '
            "| no |",
            '| <a name="input_with_pipe"></a> [with\\_pipe](#input\\_with\\_pipe) | One \\| two, '
            'see https://example.com/a_b_c. | `string` | `"v1"` | no |',
            '| <a name="input_zeta_required"></a> [zeta\\_required](#input\\_zeta\\_required) | '
            "n/a | `string` | n/a | yes |",
            "",
            "## Outputs",
            "",
            "| Name | Description |",
            "| ---- | ----------- |",
            '| <a name="output_a_out"></a> [a\\_out](#output\\_a\\_out) | n/a |',
            '| <a name="output_b_out"></a> [b\\_out](#output\\_b\\_out) | Second. |',
        ]
    )
    assert content == expected


def test_emphasis_and_leading_underscores_stay_markdown():
    assert readme_tables.cell("an _emphasis_ here") == "an _emphasis_ here"
    assert readme_tables.cell("snake_case and `in_code`") == "snake\\_case and `in_code`"


def test_a_parse_error_is_reported_not_swallowed(tmp_path: Path):
    (tmp_path / "main.tf").write_text('variable "x" {\n  type = \n')
    (tmp_path / "README.md").write_text("# x\n")
    problems = readme_tables.update([tmp_path], check=True)
    assert problems
    assert "not valid HCL" in problems[0]
    with pytest.raises(HclError):
        load(tmp_path)


def test_a_module_without_readme_is_reported(tmp_path: Path):
    (tmp_path / "main.tf").write_text('variable "x" {\n  type = string\n}\n')
    problems = readme_tables.update([tmp_path], check=False)
    assert problems
    assert "README.md is missing" in problems[0]
    assert readme_tables.main([str(tmp_path)]) == 1


def test_the_command_line_defaults_to_every_directory(monkeypatch: pytest.MonkeyPatch):
    seen: list[list[Path]] = []
    monkeypatch.setattr(readme_tables, "update", lambda dirs, check: seen.append(dirs) or [])
    assert readme_tables.main(["--check"]) == 0
    assert seen == [DIRS]
    assert re.search(r"make docs", readme_tables.__doc__ or "")
