#!/usr/bin/env bash
# restore-validation.sh: checks an instance AWS Backup restore testing restored.
#
# Run by the restore validation SSM Command document (ssm/restore-validation.yaml.tftpl),
# which assigns ACB_RESTORE_JOB_ID and ACB_CHECK_TIMEOUT_SECONDS from its parameters and
# ACB_CHECK_DIR from the module's variables, or standalone:
#   ACB_RESTORE_JOB_ID=manual-1 bash restore-validation.sh
#
# Checks (docs/contracts.md section 6): the filesystems mount cleanly (every /etc/fstab
# filesystem mounted, none read-only that fstab mounts read-write, no failed .mount unit,
# no ext2/3/4 superblock with the error flag, no filesystem error in the kernel log since
# boot), then each executable of the check directory runs and exits 0. It only reads: it
# changes nothing on the instance. Standard output carries one line, the JSON result;
# diagnostics and check output go to standard error.
#
# Bash 4.2 or later; util-linux findmnt; GNU coreutils (timeout, stat). No jq, no python.

set -Eeuo pipefail
umask 077
export LC_ALL=C
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

readonly EX_OK=0         # every check passed
readonly EX_FAILED=20    # a check failed
readonly EX_INVALID=21   # invalid parameter (nothing checked)
readonly EX_PREREQ=22    # prerequisites missing (not root, no findmnt)

RESTORE_JOB_ID=${ACB_RESTORE_JOB_ID:-}
CHECK_TIMEOUT=${ACB_CHECK_TIMEOUT_SECONDS:-300}
CHECK_DIR=${ACB_CHECK_DIR:-/etc/app-consistent-backup/restore-check.d}
# Where the checks read; tests point them at their own files, the document never sets them.
FSTAB=${ACB_FSTAB:-/etc/fstab}
KERNEL_LOG=${ACB_KERNEL_LOG:-}

# Kernel messages that say a filesystem or its device failed.
readonly KERNEL_FS_ERRORS='EXT[234]-fs error|XFS \([^)]*\):.*([Cc]orrupt|Internal error|I/O error)|BTRFS (error|critical)|Buffer I/O error on dev|I/O error, dev'

CHECKS=()   # JSON objects, in order
FAILED=0

# A JSON string literal for $1, in REPLY.
json_string() {
  local s=$1 out='' c i
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/ }
  s=${s//$'\r'/ }
  s=${s//$'\t'/ }
  if [[ $s == *[$'\001'-$'\037']* ]]; then
    for ((i = 0; i < ${#s}; i++)); do
      c=${s:i:1}
      if [[ $c == [$'\001'-$'\037'] ]]; then
        printf -v c '\\u%04x' "'$c"
      fi
      out+=$c
    done
    s=$out
  fi
  REPLY="\"$s\""
}

add_check() { # name status detail
  local name status detail
  json_string "$1"; name=$REPLY
  json_string "$2"; status=$REPLY
  json_string "${3:0:300}"; detail=$REPLY
  CHECKS+=("{\"name\":$name,\"status\":$status,\"detail\":$detail}")
  if [[ $2 == failed ]]; then FAILED=1; fi
  printf 'restore-validation: %s %s: %s\n' "$1" "$2" "$3" >&2
}

finish() { # exit_code
  local code=$1 id status IFS=,
  json_string "$RESTORE_JOB_ID"; id=$REPLY
  if ((code == EX_OK)); then status='"passed"'; else status='"failed"'; fi
  printf '{"restore_job_id":%s,"status":%s,"checks":[%s],"exit_code":%d}\n' \
    "$id" "$status" "${CHECKS[*]}" "$code"
  exit "$code"
}

# Undoes findmnt's \xHH escapes, in REPLY.
unescape() { printf -v REPLY '%b' "$1"; }

has_option() { # options option
  [[ ,$1, == *",$2,"* ]]
}

# --- filesystems ---------------------------------------------------------------------------
check_filesystems() {
  local problems=() target fstype options current count=0 line unit dev state
  while read -r target _source fstype options; do
    [[ -n ${target:-} ]] || continue
    unescape "$target"; target=$REPLY
    case $fstype in swap | none | proc | sysfs | devpts | tmpfs | devtmpfs) continue ;; esac
    [[ $target == /* ]] || continue
    has_option "$options" noauto && continue
    count=$((count + 1))
    if ! current=$(findmnt -n -r -o OPTIONS,FSTYPE,SOURCE --mountpoint "$target" 2>/dev/null) || [[ -z $current ]]; then
      problems+=("$target is not mounted")
      continue
    fi
    read -r current fstype dev <<<"${current%%$'\n'*}"
    if has_option "$current" ro && ! has_option "$options" ro; then
      problems+=("$target is mounted read-only (fstab: ${options})")
    fi
    if [[ $fstype == ext[234] ]] && command -v dumpe2fs >/dev/null; then
      unescape "$dev"; dev=$REPLY
      state=$(dumpe2fs -h "$dev" 2>/dev/null | sed -n 's/^Filesystem state:[[:space:]]*//p') || true
      if [[ $state == *"with errors"* ]]; then
        problems+=("$target ($dev) carries the ext error flag: $state")
      fi
    fi
  done < <(findmnt --fstab --tab-file "$FSTAB" -n -r -o TARGET,SOURCE,FSTYPE,OPTIONS 2>/dev/null || true)

  if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null; then
    while read -r unit _; do
      if [[ $unit == *.mount ]]; then problems+=("unit $unit failed"); fi
    done < <(systemctl --failed --type=mount --no-legend --plain 2>/dev/null || true)
  fi

  while IFS= read -r line; do
    problems+=("kernel: ${line:0:160}")
  done < <(kernel_log | grep -E -m 3 "$KERNEL_FS_ERRORS" || true)

  if ((${#problems[@]} > 0)); then
    local IFS=';'
    add_check filesystems failed "${problems[*]}"
  else
    add_check filesystems passed "$count fstab filesystems mounted cleanly"
  fi
}

kernel_log() {
  if [[ -n $KERNEL_LOG ]]; then
    cat -- "$KERNEL_LOG" 2>/dev/null || true
  elif command -v journalctl >/dev/null && [[ -d /run/systemd/system ]]; then
    journalctl -k -b -p err --no-pager -q -o cat 2>/dev/null || true
  else
    dmesg --level=err,crit,alert,emerg 2>/dev/null || true
  fi
}

# --- the user's checks ---------------------------------------------------------------------
# A check directory or file is trusted when root owns it and neither group nor others may
# write it: anybody else could otherwise run code as root through this document.
trusted() {
  local owner mode
  read -r owner mode < <(stat -L -c '%u %a' -- "$1" 2>/dev/null) || true
  [[ -n ${owner:-} && -n ${mode:-} ]] || return 1
  ((owner == 0 || owner == EUID)) || return 1
  (((8#$mode & 8#022) == 0))
}

check_user() {
  local f name rc out last
  [[ -e $CHECK_DIR ]] || return 0
  if [[ ! -d $CHECK_DIR ]] || ! trusted "$CHECK_DIR"; then
    add_check "user-checks" failed "$CHECK_DIR is not a root-owned directory closed to group and others"
    return 0
  fi
  out=$(mktemp)
  for f in "$CHECK_DIR"/*; do
    [[ -e $f ]] || continue
    name=${f##*/}
    [[ $name =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]*$ ]] || continue
    case $name in *.disabled | *.sample | *.dpkg-* | *.rpmnew | *.rpmsave | *.swp) continue ;; esac
    [[ -f $f && -x $f ]] || continue
    if ! trusted "$f"; then
      add_check "user:$name" failed "not trusted: not owned by root, or writable by group or others"
      continue
    fi
    rc=0
    timeout --kill-after=5 "$CHECK_TIMEOUT" "$f" </dev/null >"$out" 2>&1 || rc=$?
    cat -- "$out" >&2
    last=$(grep -v '^[[:space:]]*$' "$out" | tail -n 1 || true)
    if ((rc == 0)); then
      add_check "user:$name" passed "${last:-exit 0}"
    elif ((rc == 124 || rc == 137)); then
      add_check "user:$name" failed "timed out after ${CHECK_TIMEOUT}s"
    else
      add_check "user:$name" failed "exit $rc: ${last:-no output}"
    fi
  done
  rm -f -- "$out"
}

main() {
  if [[ ! $RESTORE_JOB_ID =~ ^[A-Za-z0-9-]{1,80}$ ]]; then
    add_check parameters failed "RestoreJobId must be 1-80 letters, digits or hyphens"
    finish "$EX_INVALID"
  fi
  if [[ ! $CHECK_TIMEOUT =~ ^[1-9][0-9]{0,2}$ ]]; then
    add_check parameters failed "CheckTimeoutSeconds must be a whole number from 1 to 999"
    finish "$EX_INVALID"
  fi
  if ((EUID != 0)); then
    add_check prerequisites failed "must run as root (the SSM agent runs documents as root)"
    finish "$EX_PREREQ"
  fi
  if ! command -v findmnt >/dev/null; then
    add_check prerequisites failed "findmnt (util-linux) is missing"
    finish "$EX_PREREQ"
  fi
  check_filesystems
  check_user
  if ((FAILED)); then finish "$EX_FAILED"; fi
  finish "$EX_OK"
}

main "$@"
