#!/usr/bin/env bash
# Sample pre-freeze hook for PostgreSQL: run CHECKPOINT before the freeze.
#
#   install -o root -m 0755 postgresql-checkpoint.sh \
#     /etc/app-consistent-backup/pre-freeze.d/20-postgresql
#
# PostgreSQL needs no lock for a consistent snapshot: its write-ahead log makes any
# point-in-time image of the data directory recoverable, provided the image covers the data
# directory and pg_wal at the same instant (AWS Backup snapshots all of an instance's volumes
# at one moment, and the freeze makes each filesystem's image consistent). CHECKPOINT flushes
# dirty buffers first, so less is written while frozen and a restore replays less WAL.
# A failing CHECKPOINT (server down, timeout) fails the hook, which aborts the freeze: remove
# `exit "$rc"` below if a stopped server should not stop the backup.
#
# Configuration (environment, all optional):
#   ACB_PG_OS_USER     OS user to run psql as when run by root (postgres; empty: current user)
#   ACB_PG_DATABASE    database to connect to (psql's default)
#   ACB_PG_TIMEOUT_SECONDS  bound on the CHECKPOINT (20)
#   ACB_PSQL_CLIENT    the client binary (psql)
# Connection settings come from the usual PG* variables or the OS user's ~/.pgpass.
set -euo pipefail

phase=${1:-${ACB_PHASE:-}}
[[ $phase == pre-freeze ]] || exit 0 # nothing to undo after the thaw

os_user=${ACB_PG_OS_USER-postgres}
timeout_s=${ACB_PG_TIMEOUT_SECONDS:-20}
cmd=("${ACB_PSQL_CLIENT:-psql}" -X -q -v ON_ERROR_STOP=1 -c CHECKPOINT)
if [[ -n ${ACB_PG_DATABASE:-} ]]; then cmd+=(-d "$ACB_PG_DATABASE"); fi
if [[ -n $os_user && $(id -u) == 0 ]]; then cmd=(runuser -u "$os_user" -- "${cmd[@]}"); fi

rc=0
timeout -k 5 "$timeout_s" "${cmd[@]}" || rc=$?
if ((rc != 0)); then
  printf 'postgresql-checkpoint: CHECKPOINT failed (exit %d)\n' "$rc" >&2
  exit "$rc"
fi
printf 'postgresql-checkpoint: CHECKPOINT done\n' >&2
