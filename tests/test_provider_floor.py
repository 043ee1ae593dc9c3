"""docs/provider-floor.md states the provider floor with its reason, and the code agrees."""

from __future__ import annotations

import shutil
from pathlib import Path

from scripts import provider_floor

ROOT = Path(__file__).resolve().parent.parent
PAGE = provider_floor.PAGE.read_text()


def test_the_page_and_the_code_agree():
    assert provider_floor.problems() == []


def test_the_floor_is_the_newest_feature_and_is_stated_everywhere():
    features, _ = provider_floor.read_page(PAGE)
    assert max(features.values()) == (5, 72, 0)
    assert "`hashicorp/aws >= 5.72`" in PAGE
    assert "5.100.0" in PAGE  # the version the tests ran on
    readme = (ROOT / "README.md").read_text()
    assert "`hashicorp/aws` provider >= 5.72" in readme
    assert "provider-floor" in readme


def _module(tmp_path: Path, extra: str) -> Path:
    # Not .terraform: its provider link would be copied as the 700 MB binary it points to.
    shutil.copytree(
        ROOT / "modules" / "notifications",
        tmp_path / "m",
        ignore=shutil.ignore_patterns(".terraform*"),
    )
    with (tmp_path / "m" / "main.tf").open("a") as f:
        f.write(extra)
    return tmp_path / "m"


def test_a_new_argument_is_noticed(tmp_path: Path):
    module = _module(
        tmp_path,
        '\nresource "aws_sns_topic" "more" {\n  name = "x"\n  fifo_topic = true\n}\n',
    )
    found = provider_floor.problems(PAGE, [module])
    assert "aws_sns_topic.fifo_topic is not in the inventory of docs/provider-floor.md" in found


def test_a_new_resource_type_is_noticed(tmp_path: Path):
    module = _module(tmp_path, '\nresource "aws_ebs_volume" "x" {\n  size = 1\n}\n')
    found = provider_floor.problems(PAGE, [module])
    assert "aws_ebs_volume is not in the inventory of docs/provider-floor.md" in found


def test_a_newer_feature_moves_the_floor(tmp_path: Path):
    page = PAGE.replace(
        "| `aws_lambda_function.logging_config` | 5.32.0 |",
        "| `aws_lambda_function.logging_config` | 5.80.0 |",
    )
    found = provider_floor.problems(page, [ROOT / "modules" / "discovery"])
    assert any("must be declared `>= 5.80`" in p for p in found), found


def test_a_stale_row_is_noticed():
    page = PAGE.replace("| `aws_kms_alias` | name, target_key_id |", "")
    page = page.replace("force_destroy, kms_key_arn, name, tags", "force_destroy, name, tags, x")
    found = provider_floor.problems(page, [ROOT / "modules" / "vault"])
    assert "aws_kms_alias is not in the inventory of docs/provider-floor.md" in found
    assert "aws_backup_vault.kms_key_arn is not in the inventory of docs/provider-floor.md" in found
    assert "docs/provider-floor.md lists aws_backup_vault.x, which nothing sets" in found


def test_a_dynamic_block_counts_as_the_block_it_makes(tmp_path: Path):
    module = _module(
        tmp_path,
        """
resource "aws_sns_topic" "dyn" {
  name = "x"
  dynamic "tracing" {
    for_each = [1]
    content {
      mode = "Active"
    }
  }
}
""",
    )
    found = provider_floor.problems(PAGE, [module])
    assert "aws_sns_topic.tracing is not in the inventory of docs/provider-floor.md" in found
    assert "aws_sns_topic.tracing.mode is not in the inventory of docs/provider-floor.md" in found
    assert not any(".dynamic" in p or "for_each" in p for p in found), found


def test_a_module_without_resources_needs_no_provider():
    found = provider_floor.problems(PAGE, [ROOT / "modules" / "vault-access-policy"])
    assert not any("hashicorp/aws" in p for p in found), found
