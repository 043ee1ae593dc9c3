"""What to do after `make demo`: apply to an account, keep the work directory, read the metrics.

The metrics are those of docs/contracts.md, sections 5 (discovery) and 5a (state machine).
"""

from __future__ import annotations

from demo.text import wrap

NAMESPACE = "AppConsistentBackup"
DISCOVERY_NAMESPACE = "AppConsistentBackup/Discovery"
DEFAULT_PREFIX = "app-consistent-backup"  # the root module's name_prefix default


def lines(workdir: str, kept: bool) -> list[str]:
    out = ["", "Next steps:"]
    out += wrap(
        "Apply to an account: examples/minimal is the smallest real deployment (Linux "
        "instances tagged AppConsistentBackup = nightly, backed up at 01:00 UTC into a new "
        "vault; its README lists the variables). To try it first in a sandbox account, with "
        "one instance of its own, destroyed afterwards (README, 'Try it in a sandbox "
        "account'):",
        indent="  ",
    )
    out.append(
        "    SMOKE_CONFIRM_ACCOUNT=<account id> make smoke REGION=<region> SUBNET=<subnet id>"
    )
    if kept:
        out += wrap(
            f"The work directory was kept: {workdir} (Terraform state and logs, the emulator's "
            "and the functions' logs). Remove it yourself.",
            indent="  ",
        )
    else:
        out += wrap(
            "Keep the work directory (Terraform state and logs, the emulator's and the "
            "functions' logs) to look at after the run:",
            indent="  ",
        )
        out.append("    make demo KEEP_WORKDIR=1")
    out += wrap(
        f"Read the metrics: every run puts into the CloudWatch namespace {NAMESPACE}, "
        f"dimension StateMachine = <name_prefix>-backup-instance "
        f"({DEFAULT_PREFIX}-backup-instance by default): Runs by Outcome, RecoveryPoints by "
        "Consistency and by Schedule, FreezeWindow in milliseconds; discovery puts "
        f"Discovered, Started, Skipped, Failed, Deferred, NotSelected into {DISCOVERY_NAMESPACE} "
        "(docs/contracts.md, sections 5 and 5a). A rising share of RecoveryPoints with "
        "Consistency = crash-consistent-timeout means AWS Backup starts the snapshots later "
        "than the freeze bound allows in that account. For example, the last week's:",
        indent="  ",
    )
    out += [
        f"    aws cloudwatch get-metric-statistics --namespace {NAMESPACE} \\",
        "      --metric-name RecoveryPoints --statistics Sum --period 86400 \\",
        f"      --dimensions Name=StateMachine,Value={DEFAULT_PREFIX}-backup-instance \\",
        "                   Name=Consistency,Value=crash-consistent-timeout \\",
        '      --start-time "$(date -u -d -7days +%FT%TZ)" --end-time "$(date -u +%FT%TZ)"',
    ]
    return out
