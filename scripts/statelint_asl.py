"""statelint (PyPI) over the ASL files, a second opinion beside asl-validator.

    python scripts/statelint_asl.py asl/backup_instance.asl.json [...]

statelint 3.1.0 knows JSONata states but still wants integers in the fields that AWS
lets a JSONata state compute ("Seconds", "Timestamp", "TimeoutSeconds", ... may be
"{% ... %}"; Step Functions developer guide, Wait and Task states). Only those reports
are set aside, each one printed; every other finding fails.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

INTEGER_FIELDS = ("Seconds", "TimeoutSeconds", "HeartbeatSeconds", "MaxConcurrency")
EXPRESSION_FOR_INTEGER = re.compile(
    rf'\.({"|".join(INTEGER_FIELDS)}) is "\{{%.*%\}}" but should be an Integer$'
)
# A Wait state's Timestamp may be a JSONata expression too (a pace gate's reserved second).
EXPRESSION_FOR_TIMESTAMP = re.compile(
    r'\.Timestamp is "\{%.*%\}" but should be an RFC3339 timestamp$'
)


def findings(path: str) -> list[str]:
    statelint = Path(sys.executable).with_name("statelint")
    result = subprocess.run(
        [str(statelint), path], capture_output=True, text=True, timeout=120, check=False
    )
    if result.returncode not in (0, 1) or (result.returncode == 1 and "error" not in result.stdout):
        raise SystemExit(f"statelint failed on {path}: {result.stdout}{result.stderr}")
    lines = [line.strip() for line in result.stdout.splitlines()[1:] if line.strip()]
    return lines if result.returncode else []


def main(paths: list[str]) -> int:
    if not paths:
        print("usage: statelint_asl.py FILE...", file=sys.stderr)
        return 2
    failed = False
    for path in paths:
        kept = []
        for line in findings(path):
            if EXPRESSION_FOR_INTEGER.search(line) or EXPRESSION_FOR_TIMESTAMP.search(line):
                print(f"statelint: {path}: set aside (a JSONata expression): {line}")
            else:
                kept.append(line)
        for line in kept:
            print(f"statelint: {path}: {line}")
        failed = failed or bool(kept)
        if not kept:
            print(f"statelint: {path} valid")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
