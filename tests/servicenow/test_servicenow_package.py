"""The committed delivery package is exactly what scripts/package_lambda.py builds."""

from __future__ import annotations

import io
import zipfile

from scripts import package_lambda

SRC, OUT = package_lambda.PACKAGES[1]


def test_committed_package_matches_the_sources() -> None:
    assert OUT.exists(), "run: python scripts/package_lambda.py"
    assert OUT.read_bytes() == package_lambda.build(SRC), (
        f"{OUT.relative_to(package_lambda.ROOT)} is stale: run python scripts/package_lambda.py"
    )
    with zipfile.ZipFile(io.BytesIO(OUT.read_bytes())) as archive:
        names = archive.namelist()
    assert "servicenow/handler.py" in names
    assert all(n.startswith("servicenow/") and n.endswith(".py") for n in names)


def test_every_package_is_checked_by_default(capsys) -> None:
    assert package_lambda.main(["--check"]) == 0
    assert capsys.readouterr().err == ""
