"""The SSM document: structure, parameter patterns, and that no parameter value can inject shell.

SSM validates each value against its allowedPattern (a Java regex) and then substitutes it
textually into the script. The patterns are kept to the subset where Python's `re` and Java
agree; Java's `$` also matches before a final line terminator, which `re.search` reproduces,
so the tests check both readings: `re.fullmatch` (intended) and `re.search` (lenient).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml
from acb_harness import (
    COMMENT_BLANK_OR_INDENT,
    EX_INVALID,
    EX_OK,
    SCRIPT,
    TEMPLATE,
    TEMPLATE_VARS,
    parse_last_line,
    render,
    require_script_prerequisites,
    ssm_substitute,
    strip_comments,
)

CONTRACT_PARAMETERS = {
    "Command": "dry-run",
    "RunId": None,
    "MaxFreezeSeconds": "60",
    "IncludeMountpoints": "",
    "ExcludeMountpoints": "",
    "HookTimeoutSeconds": "30",
}

# Fixed when the document is created (module variables), never parameters of a command.
FIXED_SETTINGS = {
    "ACB_PRE_FREEZE_HOOK_DIR": "pre_freeze_hook_dir",
    "ACB_POST_THAW_HOOK_DIR": "post_thaw_hook_dir",
    "ACB_AUTO_EXCLUDE_PATHS": "auto_exclude_paths",
}

INJECTIONS = [
    "; rm -rf /",
    "$(id)",
    "`id`",
    "x'; id; echo '",
    "a\nid",
    "a b",
    "a\tb",
    "${IFS}",
    "{{ RunId }}",
    "a|id",
    "a&&id",
    "a>b",
    "\\",
    '"',
]

VALID = {
    "Command": ["freeze", "thaw", "dry-run"],
    "RunId": ["nightly-i-0123456789abcdef0-20261123T010000Z", "a", "A_b-9", "x" * 80],
    "MaxFreezeSeconds": ["15", "19", "20", "60", "99", "100", "599", "899", "900"],
    "IncludeMountpoints": ["", "/data", "/data,/var/lib/mysql", "/mnt/.snap", "/a.b/c-d_e"],
    "ExcludeMountpoints": ["", "/data", "/srv/x,/srv/y"],
    "HookTimeoutSeconds": ["1", "30", "999"],
}

INVALID = {
    "Command": ["", "Freeze", "freeze ", "stop"],
    "RunId": ["", "x" * 81, "a.b", "a/b", "run id"],
    "MaxFreezeSeconds": ["", "0", "1", "14", "00", "015", "060", "901", "3600", "-1", "1.5", "30s"],
    "IncludeMountpoints": [
        "data",
        "/",
        "/data/",
        "/data,",
        ",/data",
        "/data,,/x",
        "/data/..",
        "/../etc",
        "/a/./b",
        "/data/../../etc",
        "..",
        "/data /x",
        "/da*ta",
        "/data;id",
    ],
    "ExcludeMountpoints": ["/", "x", "/a/../b", "/a,b"],
    "HookTimeoutSeconds": ["", "0", "1000", "012", "5m"],
}


@pytest.fixture(scope="module")
def template_text() -> str:
    return TEMPLATE.read_text()


@pytest.fixture(scope="module")
def script_text() -> str:
    return SCRIPT.read_text()


@pytest.fixture(scope="module")
def document(template_text: str, script_text: str) -> dict:
    return yaml.safe_load(render(template_text, script_text))


@pytest.fixture(scope="module")
def patterns(document: dict) -> dict[str, str]:
    return {name: p["allowedPattern"] for name, p in document["parameters"].items()}


def test_template_uses_only_simple_interpolations(template_text: str) -> None:
    # The Python renderer above must be faithful: no directives, only these expressions.
    assert "%{" not in template_text
    exprs = set(re.findall(r"\$\{([^}]*)\}", template_text))
    assert exprs == {*TEMPLATE_VARS, "indent(3, script)"}


def test_template_is_yaml_as_is(template_text: str) -> None:
    assert yaml.safe_load(template_text)["schemaVersion"] == "2.2"


def test_document_structure(document: dict, script_text: str) -> None:
    assert document["schemaVersion"] == "2.2"
    assert len(document["mainSteps"]) == 1
    step = document["mainSteps"][0]
    assert step["action"] == "aws:runShellScript"
    assert step["precondition"] == {"StringEquals": ["platformType", "Linux"]}
    assert step["inputs"]["timeoutSeconds"] == "600"
    (command,) = step["inputs"]["runCommand"]
    assert command.startswith("#!/bin/bash\n")
    assert command.endswith(strip_comments(script_text))


def test_module_strips_comments_with_the_same_expression() -> None:
    main_tf = (
        Path(__file__).resolve().parents[2] / "modules/instance-documents/main.tf"
    ).read_text()
    hcl = COMMENT_BLANK_OR_INDENT.replace("\\", "\\\\")
    assert f'comment_blank_or_indent = "/{hcl}/"' in main_tf


def test_stripping_drops_only_comments_blank_lines_and_indentation(script_text: str) -> None:
    require_script_prerequisites()
    kept = strip_comments(script_text).splitlines()
    code = [
        line.lstrip(" \t")
        for line in script_text.splitlines()
        if line.strip() and not (line.lstrip().startswith("#") and not line.startswith("#!"))
    ]
    assert kept == code
    # No line continues onto a comment line (which stripping would change).
    lines = script_text.splitlines()
    for i, line in enumerate(lines[:-1]):
        if line.endswith("\\"):
            assert not lines[i + 1].lstrip().startswith("#"), i + 1
    subprocess.run(["bash", "-n"], input=strip_comments(script_text), text=True, check=True)


def test_shipped_form_defines_exactly_what_the_script_defines(
    tmp_path: Path, script_text: str
) -> None:
    """Dropping indentation could change a string that spans lines or a line continuation:
    bash's own listing of every function and global the two forms define must be equal."""
    require_script_prerequisites()
    program = """
before=$(compgen -v)
source "$1"
declare -f
for v in $(compgen -v); do grep -qx "$v" <<<"$before" || declare -p "$v"; done
"""
    listings = []
    for name, text in (("original", script_text), ("shipped", strip_comments(script_text))):
        path = tmp_path / f"{name}.sh"
        path.write_text(text)
        proc = subprocess.run(
            ["bash", "-c", program, "_", str(path)], capture_output=True, text=True, check=True
        )
        listings.append(proc.stdout)
    assert "watchdog_main ()" in listings[0]
    assert "RE_RECORD" in listings[0]
    assert listings[0] == listings[1]


def test_rendered_document_fits_ssm_size_limit(template_text: str, script_text: str) -> None:
    size = len(render(template_text, script_text).encode())
    assert size < 56000, f"SSM documents are limited to 64 KB (keep a margin); {size} bytes"


def test_hook_directories_and_exclusions_are_fixed_in_the_document(document: dict) -> None:
    command = document["mainSteps"][0]["inputs"]["runCommand"][0]
    for variable, template_var in FIXED_SETTINGS.items():
        assert f"\n{variable}='{TEMPLATE_VARS[template_var]}'\n" in command, variable
    for name in document["parameters"]:
        assert "Hook" not in name or name == "HookTimeoutSeconds", name
    rendered = yaml.safe_load(
        render(
            TEMPLATE.read_text(),
            SCRIPT.read_text(),
            pre_freeze_hook_dir="/opt/acb/pre.d",
            post_thaw_hook_dir="/opt/acb/post.d",
            auto_exclude_paths="",
        )
    )
    command = rendered["mainSteps"][0]["inputs"]["runCommand"][0]
    assert "\nACB_PRE_FREEZE_HOOK_DIR='/opt/acb/pre.d'\n" in command
    assert "\nACB_AUTO_EXCLUDE_PATHS=''\n" in command


def test_parameters_follow_the_contract(document: dict) -> None:
    params = document["parameters"]
    assert set(params) == set(CONTRACT_PARAMETERS)
    for name, default in CONTRACT_PARAMETERS.items():
        p = params[name]
        assert p["type"] == "String"
        assert len(p["description"]) > 20
        assert p.get("default") == default, name
        if default is not None:
            assert re.fullmatch(p["allowedPattern"], default), f"{name} default must be valid"
    assert params["Command"]["allowedValues"] == ["freeze", "thaw", "dry-run"]


def test_contract_doc_lists_the_same_patterns(patterns: dict[str, str]) -> None:
    contracts = (Path(__file__).resolve().parents[2] / "docs" / "contracts.md").read_text()
    for name, pattern in patterns.items():
        assert pattern in contracts, f"docs/contracts.md does not show {name}'s pattern {pattern}"


def test_every_placeholder_is_a_declared_parameter_in_single_quotes(document: dict) -> None:
    command = document["mainSteps"][0]["inputs"]["runCommand"][0]
    placeholders = re.findall(r"\{\{.*?\}\}", command)
    assert len(placeholders) == len(CONTRACT_PARAMETERS)
    for name in CONTRACT_PARAMETERS:
        lines = [line for line in command.splitlines() if "{{ " + name + " }}" in line]
        assert len(lines) == 1, name
        assert re.fullmatch(r"ACB_[A-Z_]+='\{\{ " + name + r" \}\}'", lines[0]), lines[0]


def test_script_contains_no_ssm_placeholder_syntax(script_text: str) -> None:
    # SSM would try to substitute any {{ ... }} in the script's text.
    assert "{{" not in script_text


@pytest.mark.parametrize("name", sorted(CONTRACT_PARAMETERS))
def test_patterns_accept_valid_values(patterns: dict[str, str], name: str) -> None:
    for value in VALID[name]:
        assert re.fullmatch(patterns[name], value), f"{name} should accept {value!r}"


@pytest.mark.parametrize("name", sorted(CONTRACT_PARAMETERS))
def test_patterns_reject_invalid_values_and_injections(patterns: dict[str, str], name: str) -> None:
    for value in INVALID[name] + INJECTIONS + [v + s for v in VALID[name][:1] for s in INJECTIONS]:
        assert not re.fullmatch(patterns[name], value), f"{name} should reject {value!r}"


@pytest.mark.parametrize("name", sorted(CONTRACT_PARAMETERS))
def test_no_value_a_lenient_matcher_accepts_can_leave_its_quotes(
    patterns: dict[str, str], name: str
) -> None:
    # Java's find() with `$` accepts a value followed by one final newline. Such a value stays
    # inside the single quotes of its assignment (and the script rejects it); nothing a lenient
    # matcher accepts contains a quote.
    for base in VALID[name]:
        for suffix in INJECTIONS:
            value = base + suffix
            if re.search(patterns[name], value):
                assert "'" not in value, f"{name}: {value!r}"
                assert value.rstrip("\n") == base, f"{name} leniently accepts {value!r}"


def test_script_patterns_equal_document_patterns(patterns: dict[str, str]) -> None:
    require_script_prerequisites()
    names = {
        "Command": "RE_COMMAND",
        "RunId": "RE_RUN_ID",
        "IncludeMountpoints": "RE_MOUNTPOINT_LIST",
        "ExcludeMountpoints": "RE_MOUNTPOINT_LIST",
        "HookTimeoutSeconds": "RE_HOOK_TIMEOUT_SECONDS",
    }
    program = f"""
eval "$(grep -E '^readonly RE_[A-Z_]+=' {SCRIPT})"
for v in {" ".join(sorted(set(names.values())))}; do printf '%s=%s\\n' "$v" "${{!v}}"; done
"""
    out = subprocess.run(["bash", "-c", program], capture_output=True, text=True, check=True)
    script_patterns = dict(line.split("=", 1) for line in out.stdout.splitlines())
    for name, var in names.items():
        assert script_patterns[var] == patterns[name], name
    # MaxFreezeSeconds: the document admits 15..900; the script, run standalone too, any
    # whole number of seconds up to 900 (and so everything the document admits).
    program = (
        f"eval \"$(grep -E '^readonly RE_MAX_FREEZE_SECONDS=' {SCRIPT})\"; "
        'echo "$RE_MAX_FREEZE_SECONDS"'
    )
    script_re = subprocess.run(
        ["bash", "-c", program], capture_output=True, text=True, check=True
    ).stdout.strip()
    for n in range(1002):
        for value in (str(n), f"0{n}"):
            in_document = re.fullmatch(patterns["MaxFreezeSeconds"], value) is not None
            in_script = re.fullmatch(script_re, value) is not None
            assert in_document == (value == str(n) and 15 <= n <= 900), value
            assert in_script == (value == str(n) and 1 <= n <= 900), value


# --- the rendered document's shell, run the way SSM runs it ---------------------------------


def run_document(document: dict, tmp_path: Path, values: dict[str, str]) -> tuple[int, dict]:
    require_script_prerequisites()
    defaults = {n: p.get("default", "") for n, p in document["parameters"].items()}
    command = document["mainSteps"][0]["inputs"]["runCommand"][0]
    script = tmp_path / "_script.sh"
    script.write_text(ssm_substitute(command, {**defaults, **values}))
    script.chmod(0o700)
    proc = subprocess.run(
        [str(script)],
        env={"PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "ACB_STATE_DIR": str(tmp_path / "state")},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return proc.returncode, parse_last_line(proc.stdout)


def test_rendered_document_runs_a_dry_run(document: dict, tmp_path: Path) -> None:
    rc, out = run_document(document, tmp_path, {"Command": "dry-run", "RunId": "doc-test"})
    assert rc == EX_OK, out
    assert out["status"] == "dry-run"
    assert out["run_id"] == "doc-test"
    assert "/" not in [fs["mountpoint"] for fs in out["filesystems"]]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("RunId", "doc-test\n"),  # what a lenient `$` lets through
        ("IncludeMountpoints", "/data\n"),
        ("MaxFreezeSeconds", "30\n"),
        ("HookTimeoutSeconds", "30\n"),
        ("ExcludeMountpoints", "/data\n"),
    ],
)
def test_rendered_document_rejects_what_a_lenient_pattern_lets_through(
    document: dict, tmp_path: Path, name: str, value: str
) -> None:
    marker = tmp_path / "pwned"
    rc, out = run_document(document, tmp_path, {"Command": "dry-run", "RunId": "r1", name: value})
    assert rc == EX_INVALID, out
    assert out["status"] == "failed"
    assert not marker.exists()
