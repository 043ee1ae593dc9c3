"""The restore validation document, rendered as modules/restore-testing renders it and run
for real on this machine: it passes a healthy system and fails each broken part
(docs/contracts.md section 6). Root only: the document refuses to run as anyone else."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "ssm" / "restore-validation.yaml.tftpl"
SCRIPT = ROOT / "ssm" / "scripts" / "restore-validation.sh"
COMMENT_OR_BLANK_LINE = re.compile(r"(?m)^[ \t]*(#([^!\n][^\n]*)?)?\n")


def require_root() -> None:
    if os.geteuid() != 0:
        message = "the validation document runs as root (the SSM agent's user)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; CI runs as root")
        pytest.skip(message)


def render(check_dir: Path, timeout: int = 300) -> dict:
    """templatefile() as modules/restore-testing calls it, for the forms the template uses."""
    script = COMMENT_OR_BLANK_LINE.sub("", SCRIPT.read_text())
    text = TEMPLATE.read_text()
    for name, value in {
        "check_dir": str(check_dir),
        "check_timeout_seconds": str(timeout),
        "execution_timeout_seconds": "3600",
    }.items():
        text = text.replace("${" + name + "}", value)
    # The script goes in last: templatefile() does not interpret a function's result.
    assert re.findall(r"\$\{[^}]*\}", text) == ["${indent(6, script)}"], "unrendered variable"
    text = text.replace("${indent(6, script)}", script.replace("\n", "\n" + " " * 6).rstrip())
    return yaml.safe_load(text)


def run_document(
    document: dict, parameters: dict[str, str], env: dict[str, str]
) -> tuple[int, dict, str]:
    """What the SSM agent does: substitute the parameters (after their allowedPattern) and run."""
    command = document["mainSteps"][0]["inputs"]["runCommand"][0]
    for name, spec in document["parameters"].items():
        value = parameters.get(name, spec.get("default"))
        assert value is not None, f"{name} is required"
        assert re.fullmatch(spec["allowedPattern"], value), f"{name}={value!r} refused by SSM"
        command = command.replace("{{ " + name + " }}", value)
    done = subprocess.run(
        ["bash", "-c", command],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": os.environ["PATH"], **env},
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, f"standard output must be one JSON line:\n{done.stdout}\n{done.stderr}"
    return done.returncode, json.loads(lines[0]), done.stderr


def root_fstab(path: Path, *extra: str) -> Path:
    """An fstab naming this machine's / as it is mounted (plus extra lines)."""
    found = subprocess.run(
        ["findmnt", "-n", "-r", "-o", "SOURCE,FSTYPE,OPTIONS", "--mountpoint", "/"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    source, fstype, options = found[0], found[1], found[2]
    ro = "ro" if "ro" in options.split(",") else "defaults"
    path.write_text("\n".join([f"{source} / {fstype} {ro} 0 1", *extra]) + "\n")
    return path


def check(directory: Path, name: str, body: str, mode: int = 0o755) -> None:
    path = directory / name
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(mode)


@pytest.fixture
def place(tmp_path: Path) -> Path:
    require_root()
    (tmp_path / "checks").mkdir(mode=0o755)
    (tmp_path / "checks").chmod(0o755)
    (tmp_path / "kernel.log").write_text("")
    return tmp_path


def test_healthy_instance_passes(place: Path) -> None:
    check(place / "checks", "10-app-opens", "echo 'orders: 1204 rows'")
    check(place / "checks", "20-skipped.disabled", "exit 9")
    document = render(place / "checks")

    code, report, _ = run_document(
        document,
        {"RestoreJobId": "A1B2C3D4-0000-1111"},
        {
            "ACB_FSTAB": str(root_fstab(place / "fstab")),
            "ACB_KERNEL_LOG": str(place / "kernel.log"),
        },
    )

    assert code == 0, report
    assert report["status"] == "passed"
    assert report["restore_job_id"] == "A1B2C3D4-0000-1111"
    assert [(c["name"], c["status"]) for c in report["checks"]] == [
        ("filesystems", "passed"),
        ("user:10-app-opens", "passed"),
    ]
    assert report["checks"][1]["detail"] == "orders: 1204 rows"


def test_each_broken_part_fails(place: Path) -> None:
    checks_dir = place / "checks"
    check(
        checks_dir, "10-app-opens", "echo 'connecting'; echo 'table orders is missing' >&2; exit 3"
    )
    check(checks_dir, "20-writable-by-group", "exit 0", mode=0o775)
    check(checks_dir, "30-hangs", "sleep 30")
    (place / "kernel.log").write_text(
        "EXT4-fs error (device nvme1n1): ext4_lookup:1855: inode #2: comm ls: deleted inode\n"
    )
    fstab = root_fstab(
        place / "fstab", "/dev/nvme9n1 /restore-test-missing xfs defaults,nofail 0 2"
    )

    code, report, stderr = run_document(
        render(checks_dir, timeout=1),
        {"RestoreJobId": "A1B2C3D4"},
        {"ACB_FSTAB": str(fstab), "ACB_KERNEL_LOG": str(place / "kernel.log")},
    )

    assert code == 20, stderr
    assert report["status"] == "failed"
    by_name = {c["name"]: c for c in report["checks"]}
    assert by_name["filesystems"]["status"] == "failed"
    assert "/restore-test-missing is not mounted" in by_name["filesystems"]["detail"]
    assert "kernel: EXT4-fs error (device nvme1n1)" in by_name["filesystems"]["detail"]
    assert by_name["user:10-app-opens"] == {
        "name": "user:10-app-opens",
        "status": "failed",
        "detail": "exit 3: table orders is missing",
    }
    assert by_name["user:20-writable-by-group"]["detail"].startswith("not trusted")
    assert by_name["user:30-hangs"]["detail"] == "timed out after 1s"


def test_read_only_mount_fails(place: Path) -> None:
    for tool in ("mkfs.ext4", "losetup", "mount", "umount"):
        if shutil.which(tool) is None:
            pytest.skip(f"needs {tool}")
    if not Path("/dev/loop-control").exists():
        pytest.skip("needs loop devices")
    image, mountpoint = place / "data.img", place / "data"
    mountpoint.mkdir()
    subprocess.run(["truncate", "-s", "16M", str(image)], check=True)
    subprocess.run(["mkfs.ext4", "-q", "-F", str(image)], check=True)
    subprocess.run(["mount", "-o", "loop,ro", str(image), str(mountpoint)], check=True)
    try:
        fstab = root_fstab(place / "fstab", f"{image} {mountpoint} ext4 defaults 0 2")
        code, report, _ = run_document(
            render(place / "checks"),
            {"RestoreJobId": "A1B2C3D4"},
            {"ACB_FSTAB": str(fstab), "ACB_KERNEL_LOG": str(place / "kernel.log")},
        )
    finally:
        subprocess.run(["umount", str(mountpoint)], check=False)
    assert code == 20
    assert f"{mountpoint} is mounted read-only (fstab: defaults)" in report["checks"][0]["detail"]


def test_untrusted_check_directory_fails(place: Path) -> None:
    (place / "checks").chmod(0o777)
    code, report, _ = run_document(
        render(place / "checks"),
        {"RestoreJobId": "A1B2C3D4"},
        {
            "ACB_FSTAB": str(root_fstab(place / "fstab")),
            "ACB_KERNEL_LOG": str(place / "kernel.log"),
        },
    )
    assert code == 20
    assert report["checks"][-1]["name"] == "user-checks"
    assert "closed to group and others" in report["checks"][-1]["detail"]


def test_script_rechecks_its_parameters(place: Path) -> None:
    done = subprocess.run(
        ["bash", str(SCRIPT)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env={"PATH": os.environ["PATH"], "ACB_RESTORE_JOB_ID": "x'; reboot; '"},
    )
    assert done.returncode == 21
    assert json.loads(done.stdout)["checks"][0]["name"] == "parameters"
