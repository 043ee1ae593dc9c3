"""Build the Lambda functions' deployment packages, byte for byte reproducibly.

Each zip holds src/<name>/*.py as <name>/*.py (handlers: discovery.handler.handler,
servicenow.handler.handler, restore_validation.handler.handler), sorted, every entry
dated 1980-01-01 00:00:00 with mode 0644, no __pycache__, and stored uncompressed:
deflate output can differ between zlib builds, stored bytes cannot, so a laptop, CI and
a reviewer all produce the same file and Terraform's source_code_hash only moves when
the code does. (Each package is a few dozen KB.)

usage: package_lambda.py [--check] [--src DIR] [--out FILE]
(without --src and --out: every package of PACKAGES)
"""

from __future__ import annotations

import argparse
import io
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "discovery"
OUT = ROOT / "modules" / "discovery" / "package" / "discovery.zip"
EPOCH = (1980, 1, 1, 0, 0, 0)
MODE = 0o100644  # regular file, rw-r--r--
PACKAGES = (
    (SRC, OUT),
    (
        ROOT / "src" / "servicenow",
        ROOT / "modules" / "servicenow-delivery" / "package" / "servicenow.zip",
    ),
    (
        ROOT / "src" / "restore_validation",
        ROOT / "modules" / "restore-testing" / "package" / "restore_validation.zip",
    ),
)


def sources(src: Path) -> list[Path]:
    """The package's files: every .py under ``src``, no caches, in a stable order."""
    return sorted(
        (p for p in src.rglob("*.py") if "__pycache__" not in p.parts),
        key=lambda p: p.relative_to(src).as_posix(),
    )


def build(src: Path = SRC) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for path in sources(src):
            info = zipfile.ZipInfo(f"{src.name}/{path.relative_to(src).as_posix()}", EPOCH)
            info.external_attr = MODE << 16
            info.create_system = 3  # unix, so that the mode is read
            info.compress_type = zipfile.ZIP_STORED
            archive.writestr(info, path.read_bytes().replace(b"\r\n", b"\n"))
    return buffer.getvalue()


def _one(src: Path, out: Path, check: bool) -> int:
    wanted = build(src)
    current = out.read_bytes() if out.exists() else b""
    if check:
        if current != wanted:
            print(f"{out} is stale: run python scripts/package_lambda.py", file=sys.stderr)
            return 1
        return 0
    if current != wanted:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(wanted)
        print(f"wrote {out} ({len(wanted)} bytes)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if a package is stale")
    parser.add_argument("--src", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.src is None and args.out is None:
        return max(_one(src, out, args.check) for src, out in PACKAGES)
    return _one(args.src or SRC, args.out or OUT, args.check)


if __name__ == "__main__":
    sys.exit(main())
