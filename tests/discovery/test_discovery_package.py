"""The committed deployment package is exactly what scripts/package_lambda.py builds."""

from __future__ import annotations

import io
import zipfile

from scripts import package_lambda


def test_committed_package_matches_the_sources():
    assert package_lambda.OUT.exists(), "run: python scripts/package_lambda.py"
    assert package_lambda.OUT.read_bytes() == package_lambda.build(), (
        "modules/discovery/package/discovery.zip is stale: run python scripts/package_lambda.py"
    )


def test_package_is_deterministic_and_clean(tmp_path):
    first = package_lambda.build()
    assert package_lambda.build() == first
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        infos = archive.infolist()
        names = [i.filename for i in infos]
        assert names == sorted(names)
        assert "discovery/handler.py" in names
        assert "discovery/__init__.py" in names
        assert all(n.startswith("discovery/") and n.endswith(".py") for n in names)
        assert not any("__pycache__" in n for n in names)
        assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
        assert {i.external_attr >> 16 for i in infos} == {0o100644}

    # A cache directory and a fresh mtime change nothing.
    src = tmp_path / "discovery"
    src.mkdir()
    (src / "a.py").write_text("A = 1\n")
    before = package_lambda.build(src)
    (src / "__pycache__").mkdir()
    (src / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"\0")
    (src / "a.py").touch()
    assert package_lambda.build(src) == before


def test_check_mode_reports_a_stale_package(tmp_path, capsys):
    out = tmp_path / "discovery.zip"
    assert package_lambda.main(["--check", "--out", str(out)]) == 1
    assert "stale" in capsys.readouterr().err
    assert package_lambda.main(["--out", str(out)]) == 0
    assert package_lambda.main(["--check", "--out", str(out)]) == 0
