#!/usr/bin/env bash
# freeze-thaw.sh: application-consistent freeze and thaw of a Linux instance's filesystems.
#
# Run by the app-consistent-backup SSM Command document (ssm/app-consistent-backup.yaml.tftpl),
# which assigns the ACB_* variables below from its parameters and from the settings fixed when
# the document was created (hook directories, automatic-selection exclusions), or standalone:
#   ACB_COMMAND=dry-run ACB_RUN_ID=manual-1 bash freeze-thaw.sh
#
# Parameters, exit codes, output, hooks and the safety rules: ssm/README.md and
# docs/contracts.md section 3. Standard output carries one line, the JSON result;
# diagnostics and hook output go to standard error.
#
# The rules this script is built around:
#   * it never freezes `/`, /boot*, nor the filesystem holding the SSM agent's directories,
#     its own state directory, its working directory or itself, even when told to;
#   * it acts on filesystems by identity, not by path: the watchdog opens each chosen
#     mountpoint once and checks that the descriptor is the chosen mount (mount ID, device);
#     every freeze and every thaw goes through a descriptor checked the same way, so renaming,
#     swapping or mounting over a path afterwards changes nothing;
#   * it trusts only what root alone controls: a mountpoint, a hook or the state directory
#     whose path passes through a directory that another user owns or may write is refused;
#   * before the first freeze a detached watchdog holds those descriptors and the deadline in
#     itself and thaws everything at the deadline unless a thaw came first; losing the state
#     directory does not disarm it;
#   * what it froze is written down (before each freeze) in a state directory that is never
#     frozen, so any later thaw, the watchdog or a later run can undo it;
#   * while anything is frozen it writes to no filesystem but the state directory's and
#     runs nothing that could (no here-documents: TMPDIR points into the state directory).
#
# Bash 4.2 or later (Amazon Linux 2, RHEL 7); util-linux findmnt, fsfreeze, flock, setsid;
# GNU coreutils; Linux 3.15 or later for mount IDs in /proc fdinfo (older kernels: the device
# alone identifies a filesystem). No jq, no python.

set -Eeuo pipefail
umask 077
export LC_ALL=C
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# --- exit codes (one meaning each; docs/contracts.md section 3) --------------------------
#  0  done: frozen, thawed, dry run, or nothing to freeze
#  10 invalid parameter (nothing done)
#  11 another run's freeze is active on this instance (nothing done)
#  12 a pre-freeze hook failed, timed out or is not trusted (nothing frozen)
#  13 a filesystem failed to be pinned or frozen; everything already frozen was thawed
#  14 a thaw failed or could not reach a filesystem by its identity (watchdog stays armed)
#  15 prerequisites missing (not root, no fsfreeze/findmnt, unsafe state directory, ...)
#  16 interrupted or internal error; anything this run froze was thawed
readonly EX_OK=0
readonly EX_INVALID=10
readonly EX_BUSY=11
readonly EX_HOOK=12
readonly EX_FREEZE=13
readonly EX_THAW=14
readonly EX_PREREQ=15
readonly EX_INTERNAL=16

# --- input patterns (the document's allowedPattern values, except where said) -------------
readonly RE_COMMAND='^(freeze|thaw|dry-run)$'
readonly RE_RUN_ID='^[A-Za-z0-9_-]{1,80}$'
# The document admits 15..900 (the state machine's bound); the script itself takes any whole
# number of seconds up to 900, so that it can be run standalone and tested with short bounds.
readonly RE_MAX_FREEZE_SECONDS='^([1-9][0-9]?|[1-8][0-9]{2}|900)$'
readonly RE_MOUNTPOINT_LIST='^((/[.]?[A-Za-z0-9_-][A-Za-z0-9._-]*)+(,(/[.]?[A-Za-z0-9_-][A-Za-z0-9._-]*)+)*)?$'
readonly RE_DIRECTORY='^(/[.]?[A-Za-z0-9_-][A-Za-z0-9._-]*)+$'
readonly RE_HOOK_TIMEOUT_SECONDS='^[1-9][0-9]{0,2}$'
# A hook directory runs every executable in it: never a top-level or a system program directory.
readonly RE_SYSTEM_DIRECTORY='^/([^/]+|(usr/(local/)?)?(s?bin|lib(exec|64)?))$'
readonly RE_HOOK_NAME='^[A-Za-z0-9_][A-Za-z0-9_.-]*$'
readonly RE_HOOK_NAMES='^([A-Za-z0-9_][A-Za-z0-9_.-]*(,[A-Za-z0-9_][A-Za-z0-9_.-]*)*)?$'
# A record of one pinned filesystem: the watchdog's descriptor, mount ID, MAJ:MIN (mount
# table), device seen through the descriptor ('-' unknown), type, source, mountpoint (escaped).
readonly RE_RECORD='^([0-9]+) ([0-9]+) ([0-9]+:[0-9]+) ([0-9]+:[0-9]+|-) ([^ ]+) ([^ ]+) ([^ ]+)$'
readonly MAX_LIST_LENGTH=4096

# --- fixed behaviour ----------------------------------------------------------------------
readonly FREEZABLE_FSTYPES=' ext2 ext3 ext4 xfs btrfs f2fs jfs nilfs2 reiserfs '
readonly -a DEFAULT_AGENT_DIRS=(/var/lib/amazon/ssm /var/log/amazon/ssm /var/snap/amazon-ssm-agent)
readonly DEFAULT_AUTO_EXCLUDE=/var/log/audit:/tmp:/var/tmp
# PIN_FD_BASE: the watchdog holds chosen filesystem i as descriptor 100+i.
# FREEZE_LOCK_WAIT_SECONDS: a freeze gives up (exit 11) when another command runs this long.
# THAW_LOCK_WAIT_SECONDS: a thaw waits this long before thawing without the lock.
# WATCHDOG_START_SECONDS: a freeze fails unless its watchdog reports in by then.
# WATCHDOG_GIVE_UP_SECONDS: after its deadline, the watchdog retries this long.
# STALE_GRACE_MS: a session past deadline + this, without watchdog, is stale.
readonly PIN_FD_BASE=100
readonly FREEZE_LOCK_WAIT_SECONDS=5
readonly THAW_LOCK_WAIT_SECONDS=10
readonly WATCHDOG_START_SECONDS=5
readonly WATCHDOG_GIVE_UP_SECONDS=3600
readonly STALE_GRACE_MS=1000
readonly PRE_SYNC_TIMEOUT_SECONDS=60
readonly KEEP_RUNS=20
readonly HOOK_KILL_AFTER_SECONDS=5
readonly HOOK_LOG_LINES=40

# --- run-time globals ---------------------------------------------------------------------
COMMAND='' RUN_ID='' MAX_FREEZE_SECONDS='' INCLUDE='' EXCLUDE='' AUTO_EXCLUDE=''
PRE_HOOK_DIR='' POST_HOOK_DIR='' HOOK_TIMEOUT='' STATE_DIR='' EXTRA_AGENT_DIRS=''
SELF='' SESSION_DIR='' TOKEN='' WD_PID='' DEADLINE_MS=''
NOW_MS='' NOW_ISO='' REPLY='' LAST_ERR=''
STATE_LOCKED=0 SESSION_ARMED=0 FINISHED=0 IS_WATCHDOG=0 FIRING=0 SLEEP_PID='' CLOSE_PINS=''
ERR_LINE='' ERR_CMD=''
OUT_STATUS='failed' OUT_FROZEN_AT='' OUT_THAWED_AT='' OUT_STARTED_AT='' OUT_DURATION_MS=''
OUT_NOTE='' WD_DEADLINE='' WD_OUTCOME='none' WD_THAWED_AT=''
OUT_FILESYSTEMS=() OUT_SKIPPED=() OUT_HOOKS=() OUT_ERRORS=() UNSAFE_SKIPPED=()
MT_ID=() MT_MAJMIN=() MT_FSTYPE=() MT_SOURCE=() MT_TARGET=() MT_SOURCE_ESC=() MT_TARGET_ESC=()
CH_ID=() CH_MAJMIN=() CH_FSTYPE=() CH_SOURCE_ESC=() CH_TARGET_ESC=() CH_DEV=()
REC_FD=() REC_ID=() REC_MM=() REC_DEV=() REC_FSTYPE=() REC_SRC=() REC_ESC=() REC_H=() REC_STATE=()
HOOK_FILES=() HOOK_DIR_FD='' HOOKS_RAN=''
THAW_FAILURES=0 PRE_HOOKS_STARTED=0
SPLIT=() WALK=() DEVS=() WD_ARGS=() PIN_DEV=()
declare -A PROTECTED=() AUTO_EXCLUDED=() TRUST=() HANDLE=()

# ==========================================================================================
# Small helpers
# ==========================================================================================

# Diagnostics on standard error, UTC time of day first; without a process per line where
# bash has EPOCHREALTIME (5.0+): a freeze logs each filesystem while others wait.
log() {
  local t=${EPOCHREALTIME:-} hms
  if [[ $t == *.* ]]; then
    TZ=UTC0 printf -v hms '%(%H:%M:%S)T' "${t%.*}"
    t=${t#*.}
    hms+=.${t:0:3}
  else
    hms=$(date -u +%H:%M:%S.%3N)
  fi
  printf '%s freeze-thaw[%s]: %s\n' "$hms" "$$" "$*" >&2
}

add_error() { OUT_ERRORS+=("$1"); log "error: $1"; }

# Sets NOW_MS (epoch milliseconds) and NOW_ISO (RFC 3339 UTC, milliseconds) from one clock read.
now() {
  local out
  out=$(date -u '+%s%3N %Y-%m-%dT%H:%M:%S.%3NZ')
  NOW_MS=${out%% *}
  NOW_ISO=${out#* }
}

# Epoch milliseconds -> RFC 3339 UTC with milliseconds, in REPLY.
ms_to_iso() {
  local ms=$1 frac
  printf -v frac '%03d' $((ms % 1000))
  REPLY=$(date -u -d "@$((ms / 1000)).$frac" '+%Y-%m-%dT%H:%M:%S.%3NZ')
}

# Sleeps for a number of milliseconds in a way a trapped signal interrupts. The sleep holds
# none of the watchdog's descriptors (CLOSE_PINS), and the watchdog kills it when cancelled.
sleep_ms() {
  local ms=$1 frac
  ((ms > 0)) || return 0
  printf -v frac '%03d' $((ms % 1000))
  eval "sleep $((ms / 1000)).$frac $CLOSE_PINS &"
  SLEEP_PID=$!
  wait "$SLEEP_PID" || true
  SLEEP_PID=''
}

# Undoes findmnt's \xHH escapes (a backslash itself is \x5c), in REPLY.
unescape() { printf -v REPLY '%b' "$1"; }

# A JSON string literal for $1, in REPLY.
json_string() {
  local s=$1 out='' c i
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  s=${s//$'\r'/\\r}
  s=${s//$'\t'/\\t}
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

# A JSON string literal for $1, or null when $1 is empty, in REPLY.
json_or_null() {
  if [[ -z $1 ]]; then REPLY=null; else json_string "$1"; fi
}

# JSON array of already-encoded elements, in REPLY.
json_array() {
  local IFS=,
  REPLY="[$*]"
}

# Args: mountpoint device fstype [state]
fs_json() {
  local obj
  json_string "$1"; obj="{\"mountpoint\":$REPLY"
  json_string "$2"; obj+=",\"device\":$REPLY"
  json_string "$3"; obj+=",\"fstype\":$REPLY"
  if [[ -n ${4:-} ]]; then
    json_string "$4"; obj+=",\"state\":$REPLY"
  fi
  REPLY="$obj}"
}

# Key=value files: later lines win. Keys are [a-z_]+, values single-line and never parsed.
kv_set() { printf '%s=%s\n' "$2" "$3" >>"$1"; }

# Args: file prefix. Sets ${prefix}${key} for every key in file.
kv_load() {
  local file=$1 prefix=$2 k v
  [[ -f $file ]] || return 1
  while IFS='=' read -r k v; do
    [[ $k =~ ^[a-z_]+$ ]] || continue
    printf -v "${prefix}${k}" '%s' "$v"
  done <"$file"
}

# Splits $1 at every $2 into the SPLIT array (no here-string: those may need a temporary
# file, and TMPDIR could be on a frozen filesystem).
split_list() {
  local rest=$1 sep=$2
  SPLIT=()
  while [[ -n $rest ]]; do
    SPLIT+=("${rest%%"$sep"*}")
    if [[ $rest == *"$sep"* ]]; then rest=${rest#*"$sep"}; else rest=''; fi
  done
}

# Args: file content
write_atomic() {
  printf '%s\n' "$2" >"$1.tmp.$$"
  mv -f -- "$1.tmp.$$" "$1"
}

# --- identities and trust -----------------------------------------------------------------

# The mount ID of our descriptor $1 (fdinfo, Linux 3.15+), in REPLY ('' when not shown).
fd_mnt_id() {
  local k v
  REPLY=''
  while read -r k v; do
    if [[ $k == mnt_id: ]]; then REPLY=$v; return 0; fi
  done <"/proc/$BASHPID/fdinfo/$1"
}

# The device (st_dev as MAJ:MIN) of each of our descriptors "$@", into DEVS, in one stat call.
fd_devs() {
  local -a paths=() out=()
  local fd d
  DEVS=()
  for fd in "$@"; do paths+=("/proc/self/fd/$fd"); done
  mapfile -t out < <(stat -L -c %d -- "${paths[@]}" 2>/dev/null || true)
  ((${#out[@]} == $#)) || return 1
  for d in "${out[@]}"; do
    [[ $d =~ ^[0-9]+$ ]] || return 1
    DEVS+=("$(((d >> 8 & 0xfff) | (d >> 32 & ~0xfff))):$(((d & 0xff) | (d >> 12 & ~0xff)))")
  done
}

# Appends to WALK every path whose owner and mode decide where path $1 leads: each directory
# on the way, the final object, and for each symbolic link met, the directories on the way to
# its target (resolved physically, at most 40 links). WALK should start as (/).
walk_path() {
  local rest=$1 cur='' comp link hops=0
  while [[ -n $rest ]]; do
    rest=${rest#/}
    comp=${rest%%/*}
    rest=${rest:${#comp}}
    case $comp in
      '' | .) continue ;;
      ..) cur=${cur%/*}; continue ;;
    esac
    if [[ -L $cur/$comp ]]; then
      if ((++hops > 40)) || ! link=$(readlink -- "$cur/$comp"); then
        LAST_ERR="cannot resolve $1"
        return 1
      fi
      if [[ $link == /* ]]; then cur=''; fi
      rest=$link$rest
      continue
    fi
    cur+=/$comp
    WALK+=("$cur")
  done
}

# For each path in "$@" not yet in TRUST: TRUST[path] is '' when root owns it and neither group
# nor others may write it (as sudo and OpenSSH's StrictModes require), else the reason.
check_trust() {
  local -a todo=() out=()
  local -A seen=()
  local p i u m
  for p in "$@"; do
    if [[ -z ${TRUST[$p]+x} && -z ${seen[$p]:-} ]]; then todo+=("$p"); seen[$p]=1; fi
  done
  ((${#todo[@]} > 0)) || return 0
  mapfile -t out < <(stat -c '%u %f' -- "${todo[@]}" 2>/dev/null || true)
  for ((i = 0; i < ${#todo[@]}; i++)); do
    p=${todo[i]}
    # Something vanished: ask one by one
    if ((${#out[@]} != ${#todo[@]})); then
      out[i]=$(stat -c '%u %f' -- "$p" 2>/dev/null || true)
    fi
    u=${out[i]%% *} m=${out[i]#* }
    if [[ ! $u =~ ^[0-9]+$ || ! $m =~ ^[0-9a-f]+$ ]]; then
      TRUST[$p]="cannot examine $p"
    elif (((16#$m & 0xF000) == 0xA000)); then
      TRUST[$p]="$p was replaced by a symbolic link"
    elif ((u != 0)); then
      TRUST[$p]="$p is owned by uid $u, not root"
    elif (((16#$m & 8#022) != 0)); then
      TRUST[$p]="$p is writable by group or others"
    else
      TRUST[$p]=''
    fi
  done
}

# Walks path $1 (walk_path) and checks every path met (check_trust); LAST_ERR names the first
# that is not root's alone. The resolved path is in REPLY.
trusted_path() {
  local p
  WALK=(/)
  walk_path "$1" || return 1
  check_trust "${WALK[@]}"
  for p in "${WALK[@]}"; do
    if [[ -n ${TRUST[$p]} ]]; then LAST_ERR=${TRUST[$p]}; return 1; fi
  done
  REPLY=${WALK[${#WALK[@]} - 1]}
}

# ==========================================================================================
# Result
# ==========================================================================================

print_result() {
  local code=$1 fs skipped hooks error err_json cmd run status
  local frozen thawed started duration deadline outcome wd_thawed note i
  json_array ${OUT_FILESYSTEMS[@]+"${OUT_FILESYSTEMS[@]}"}; fs=$REPLY
  json_array ${OUT_SKIPPED[@]+"${OUT_SKIPPED[@]}"}; skipped=$REPLY
  json_array ${OUT_HOOKS[@]+"${OUT_HOOKS[@]}"}; hooks=$REPLY
  error=''
  for ((i = 0; i < ${#OUT_ERRORS[@]}; i++)); do
    if [[ -n $error ]]; then error+='; '; fi
    error+=${OUT_ERRORS[i]}
  done
  json_or_null "$error"; err_json=$REPLY
  json_or_null "$COMMAND"; cmd=$REPLY
  json_or_null "$RUN_ID"; run=$REPLY
  json_string "$OUT_STATUS"; status=$REPLY
  json_or_null "$OUT_FROZEN_AT"; frozen=$REPLY
  json_or_null "$OUT_THAWED_AT"; thawed=$REPLY
  json_or_null "$OUT_STARTED_AT"; started=$REPLY
  json_or_null "$WD_DEADLINE"; deadline=$REPLY
  json_string "$WD_OUTCOME"; outcome=$REPLY
  json_or_null "$WD_THAWED_AT"; wd_thawed=$REPLY
  json_or_null "$OUT_NOTE"; note=$REPLY
  duration=${OUT_DURATION_MS:-null}
  printf '{"command":%s,"run_id":%s,"status":%s,"filesystems":%s,"freeze_started_at":%s,"frozen_at":%s,"thawed_at":%s,"freeze_duration_ms":%s,"watchdog":{"deadline":%s,"outcome":%s,"thawed_at":%s},"hooks":%s,"skipped":%s,"note":%s,"error":%s,"exit_code":%d}\n' \
    "$cmd" "$run" "$status" "$fs" "$started" "$frozen" "$thawed" "$duration" \
    "$deadline" "$outcome" "$wd_thawed" "$hooks" "$skipped" "$note" "$err_json" "$code" || true
}

finish() {
  local code=$1
  FINISHED=1
  if ((code != EX_OK)) && [[ $OUT_STATUS != failed ]]; then OUT_STATUS=failed; fi
  print_result "$code"
  exit "$code"
}

# ==========================================================================================
# Parameters and prerequisites
# ==========================================================================================

load_params() {
  COMMAND=${ACB_COMMAND:-dry-run}
  RUN_ID=${ACB_RUN_ID:-}
  MAX_FREEZE_SECONDS=${ACB_MAX_FREEZE_SECONDS:-60}
  INCLUDE=${ACB_INCLUDE_MOUNTPOINTS:-}
  EXCLUDE=${ACB_EXCLUDE_MOUNTPOINTS:-}
  HOOK_TIMEOUT=${ACB_HOOK_TIMEOUT_SECONDS:-30}
  # Fixed when the document is created (its own assignments above the script); from the
  # environment when the script runs standalone.
  PRE_HOOK_DIR=${ACB_PRE_FREEZE_HOOK_DIR:-/etc/app-consistent-backup/pre-freeze.d}
  POST_HOOK_DIR=${ACB_POST_THAW_HOOK_DIR:-/etc/app-consistent-backup/post-thaw.d}
  AUTO_EXCLUDE=${ACB_AUTO_EXCLUDE_PATHS-$DEFAULT_AUTO_EXCLUDE}
  # Not in the document: for tests and unusual hosts only.
  STATE_DIR=${ACB_STATE_DIR:-/run/app-consistent-backup}
  EXTRA_AGENT_DIRS=${ACB_AGENT_DIRS:-}
}

# Each of the colon-separated paths $1 is an absolute path (RE_DIRECTORY).
valid_path_list() {
  local d
  [[ $1 != :* && $1 != *: && $1 != *::* ]] || return 1
  split_list "$1" :
  for d in ${SPLIT[@]+"${SPLIT[@]}"}; do
    [[ $d =~ $RE_DIRECTORY ]] || return 1
  done
}

validate_params() {
  local bad=0 d
  if ! [[ $COMMAND =~ $RE_COMMAND ]]; then
    add_error "Command must be freeze, thaw or dry-run"; COMMAND=''; bad=1
  fi
  if ! [[ $RUN_ID =~ $RE_RUN_ID ]]; then
    add_error "RunId must match $RE_RUN_ID"; RUN_ID=''; bad=1
  fi
  if ! [[ $MAX_FREEZE_SECONDS =~ $RE_MAX_FREEZE_SECONDS ]]; then
    add_error "MaxFreezeSeconds must be a whole number of seconds, at most 900"; bad=1
  fi
  if ((${#INCLUDE} > MAX_LIST_LENGTH)) || ! [[ $INCLUDE =~ $RE_MOUNTPOINT_LIST ]]; then
    add_error "IncludeMountpoints must be comma-separated absolute paths (letters, digits, . _ -; no . or ..)"; bad=1
  fi
  if ((${#EXCLUDE} > MAX_LIST_LENGTH)) || ! [[ $EXCLUDE =~ $RE_MOUNTPOINT_LIST ]]; then
    add_error "ExcludeMountpoints must be comma-separated absolute paths (letters, digits, . _ -; no . or ..)"; bad=1
  fi
  for d in "$PRE_HOOK_DIR" "$POST_HOOK_DIR"; do
    if ! [[ $d =~ $RE_DIRECTORY ]] || [[ $d =~ $RE_SYSTEM_DIRECTORY ]]; then
      add_error "hook directory $d must be an absolute path below a top-level directory, and not a system program directory"; bad=1
    fi
  done
  if ! [[ $HOOK_TIMEOUT =~ $RE_HOOK_TIMEOUT_SECONDS ]]; then
    add_error "HookTimeoutSeconds must be a whole number from 1 to 999"; bad=1
  fi
  if ! [[ $STATE_DIR =~ $RE_DIRECTORY ]]; then
    add_error "ACB_STATE_DIR must be an absolute path"; bad=1
  fi
  if ! valid_path_list "$EXTRA_AGENT_DIRS"; then
    add_error "ACB_AGENT_DIRS must be a colon-separated list of absolute paths"; bad=1
  fi
  if ((${#AUTO_EXCLUDE} > MAX_LIST_LENGTH)) || ! valid_path_list "$AUTO_EXCLUDE"; then
    add_error "ACB_AUTO_EXCLUDE_PATHS must be a colon-separated list of absolute paths"; bad=1
  fi
  return "$bad"
}

check_prereqs() {
  local c
  local -a need=(findmnt date stat readlink)
  if [[ $COMMAND != dry-run ]]; then
    need+=(fsfreeze flock setsid timeout sync sort find sed tr cp tail chmod)
    if ((EUID != 0)); then
      add_error "freeze and thaw must run as root"
      return 1
    fi
  fi
  for c in "${need[@]}"; do
    if ! command -v "$c" >/dev/null 2>&1; then
      add_error "required command not found: $c"
      return 1
    fi
  done
  SELF=$(readlink -f -- "${BASH_SOURCE[0]}" 2>/dev/null || true)
  if [[ -z $SELF || ! -f $SELF ]]; then
    add_error "cannot locate this script's own file (the watchdog runs a copy of it)"
    return 1
  fi
}

# ==========================================================================================
# State directory and locks
#   $STATE_DIR/lock          flock: one command at a time changes state (fd 9)
#   $STATE_DIR/hooks.lock    flock: one set of hooks at a time (fd 8)
#   $STATE_DIR/active        the run id whose freeze is active (absent: nothing frozen)
#   $STATE_DIR/runs/<RunId>/ session (kv), token, fs (records of what was frozen, in freeze
#                            order), watchdog.pid, watchdog.error, fired (watchdog thawed
#                            without the lock), abort (a thaw asked a running freeze to
#                            stop), result (kv), hooks (results), *.log
#   $STATE_DIR/logs/         hook logs of a run whose session directory is gone
# ==========================================================================================

# Ownership first: the state directory and every directory above it must be root's alone
# before anything in it is created, changed or opened.
make_state_dir() {
  local d
  local -a subs=()
  if [[ -L $STATE_DIR ]]; then
    LAST_ERR="state directory $STATE_DIR is a symbolic link"
    return 1
  fi
  if [[ ! -e $STATE_DIR ]] && ! mkdir -m 0700 -- "$STATE_DIR" 2>/dev/null; then
    LAST_ERR="cannot create the state directory $STATE_DIR (its parent must exist)"
    return 1
  fi
  TRUST=()
  if ! trusted_path "$STATE_DIR" || [[ ! -d $STATE_DIR ]]; then
    LAST_ERR="unsafe state directory $STATE_DIR: ${LAST_ERR:-not a directory}"
    return 1
  fi
  for d in runs tmp hooks logs; do
    d=$STATE_DIR/$d
    if [[ -L $d ]] || { [[ -e $d ]] && ! [[ -d $d && -O $d ]]; }; then
      LAST_ERR="$d is not a directory of this user"
      return 1
    fi
    [[ -d $d ]] || mkdir -m 0700 -- "$d"
    subs+=("$d")
  done
  chmod 0700 -- "$STATE_DIR" "${subs[@]}"
}

prepare_state_dir() {
  if ! make_state_dir; then add_error "$LAST_ERR"; return 1; fi
  export TMPDIR="$STATE_DIR/tmp"
  exec 9>>"$STATE_DIR/lock"
}

# Args: seconds to wait.
lock_state() {
  if flock -w "$1" 9; then STATE_LOCKED=1; return 0; fi
  return 1
}

unlock_state() {
  if ((STATE_LOCKED)); then flock -u 9 || true; STATE_LOCKED=0; fi
}

read_active() { # -> REPLY: the active run id or ''
  REPLY=''
  if [[ -f $STATE_DIR/active ]]; then
    read -r REPLY <"$STATE_DIR/active" || true
  fi
}

# Has the session in directory $1 with token $2 been closed? Only a written result says so:
# a missing file never counts as closed (the watchdog must not be disarmed by a lost file).
session_closed() {
  local tok=''
  [[ -f $1/result ]] || return 1
  read -r tok <"$1/token" 2>/dev/null || true
  [[ $tok == "$2" ]]
}

prune_runs() {
  local active line n=0
  read_active; active=$REPLY
  while IFS= read -r line; do
    n=$((n + 1))
    ((n > KEEP_RUNS)) || continue
    [[ ${line#* } == "$active" ]] && continue
    if [[ ${line#* } =~ $RE_RUN_ID ]]; then rm -rf -- "$STATE_DIR/runs/${line#* }"; fi
  done < <(find "$STATE_DIR/runs" -mindepth 1 -maxdepth 1 -type d -printf '%T@ %f\n' 2>/dev/null | sort -rn)
  find "$STATE_DIR/logs" -type f -mtime +7 -delete 2>/dev/null || true
}

# ==========================================================================================
# Mount table, protection and selection
# ==========================================================================================

read_mounts() {
  local line src re='^ID="([0-9]+)" MAJ[:_]MIN="([^"]*)" FSTYPE="([^"]*)" SOURCE="([^"]*)" TARGET="([^"]*)"$'
  local -a lines=()
  MT_ID=() MT_MAJMIN=() MT_FSTYPE=() MT_SOURCE=() MT_TARGET=() MT_SOURCE_ESC=() MT_TARGET_ESC=()
  mapfile -t lines < <(findmnt -P -n -v -o ID,MAJ:MIN,FSTYPE,SOURCE,TARGET 2>/dev/null)
  for line in ${lines[@]+"${lines[@]}"}; do
    [[ $line =~ $re ]] || continue
    MT_ID+=("${BASH_REMATCH[1]}")
    MT_MAJMIN+=("${BASH_REMATCH[2]}")
    MT_FSTYPE+=("${BASH_REMATCH[3]}")
    # -P escapes quotes, backslashes and control characters as \xHH but leaves spaces;
    # escape those too, so that the *_ESC forms never contain whitespace.
    # Records are space-separated fields: none may be empty
    src=${BASH_REMATCH[4]:--}
    MT_SOURCE_ESC+=("${src// /\\x20}")
    MT_TARGET_ESC+=("${BASH_REMATCH[5]// /\\x20}")
    unescape "$src"; MT_SOURCE+=("$REPLY")
    unescape "${BASH_REMATCH[5]}"; MT_TARGET+=("$REPLY")
  done
  ((${#MT_TARGET[@]} > 0))
}

# The filesystem (MAJ:MIN as in mountinfo, i.e. the superblock: the unit fsfreeze works on)
# holding path $1, or its nearest existing ancestor, in REPLY. Fails closed.
fs_of_path() {
  local p=$1 mm
  while [[ ! -e $p && $p != / ]]; do
    p=${p%/*}
    [[ -n $p ]] || p=/
  done
  mm=$(findmnt -r -n -v -f -o MAJ:MIN -T "$p" 2>/dev/null || true)
  REPLY=${mm//[!0-9:]/}
  if [[ -z $REPLY ]]; then
    LAST_ERR="cannot tell which filesystem holds $p"
    return 1
  fi
}

# Args: path reason
protect_path() {
  fs_of_path "$1" || return 1
  if [[ -z ${PROTECTED[$REPLY]:-} ]]; then PROTECTED[$REPLY]="$2 ($1)"; fi
}

compute_protected() {
  local i d
  local -a agent_dirs=("${DEFAULT_AGENT_DIRS[@]}")
  PROTECTED=()
  for ((i = 0; i < ${#MT_TARGET[@]}; i++)); do
    case ${MT_TARGET[i]} in
      /) PROTECTED[${MT_MAJMIN[i]}]="root filesystem (/)" ;;
      /boot*) PROTECTED[${MT_MAJMIN[i]}]="boot filesystem (${MT_TARGET[i]})" ;;
    esac
  done
  split_list "$EXTRA_AGENT_DIRS" :
  agent_dirs+=(${SPLIT[@]+"${SPLIT[@]}"})
  protect_path / "root filesystem" || return 1
  for d in "${agent_dirs[@]}"; do
    protect_path "$d" "holds the SSM agent's directory" || return 1
  done
  protect_path "$STATE_DIR" "holds the state directory" || return 1
  protect_path "$PWD" "holds the working directory" || return 1
  protect_path "${SELF%/*}" "holds this script" || return 1
}

# Filesystems that system services must keep writing (auditd, /tmp users) are left out of
# automatic selection: AUTO_EXCLUDED[MAJ:MIN] says which path each holds. Only paths that
# exist count (a missing /var/log/audit must not drop /var/log's filesystem).
compute_auto_excluded() {
  local p
  AUTO_EXCLUDED=()
  split_list "$AUTO_EXCLUDE" :
  for p in ${SPLIT[@]+"${SPLIT[@]}"}; do
    [[ -e $p ]] || continue
    fs_of_path "$p" || return 1
    if [[ -z ${AUTO_EXCLUDED[$REPLY]:-} ]]; then AUTO_EXCLUDED[$REPLY]=$p; fi
  done
}

# Is mount table entry $1 of a freezable type, on a block device?
is_freezable_auto() {
  local i=$1
  [[ $FREEZABLE_FSTYPES == *" ${MT_FSTYPE[i]} "* ]] || return 1
  [[ ${MT_SOURCE[i]} == /dev/* && -b ${MT_SOURCE[i]} ]]
}

# Args: index reason; the entry is also left in REPLY
add_skipped() {
  local i=$1 obj
  fs_json "${MT_TARGET[i]}" "${MT_SOURCE[i]}" "${MT_FSTYPE[i]}"
  obj=${REPLY%\}}
  json_string "$2"
  REPLY="$obj,\"reason\":$REPLY}"
  OUT_SKIPPED+=("$REPLY")
}

# Chooses what to freeze: CH_* arrays in freeze order (deepest mountpoint first), the
# skipped list in OUT_SKIPPED (those refused for an unsafe path also in UNSAFE_SKIPPED).
# Returns 10 on a bad include list, 16 on an internal problem.
select_filesystems() {
  local i j k mm p depth rc=0 auto=0 why
  local -a incl=() excl=() order=() cand=() spans=() paths=()
  local -A want_mp=() excl_mp=() excl_dev=() chosen=() seen_skip=() unsafe=()
  if ! read_mounts; then add_error "cannot read the mount table (findmnt)"; return "$EX_INTERNAL"; fi
  if ! compute_protected; then add_error "$LAST_ERR"; return "$EX_INTERNAL"; fi
  split_list "$INCLUDE" ,
  incl=(${SPLIT[@]+"${SPLIT[@]}"})
  split_list "$EXCLUDE" ,
  excl=(${SPLIT[@]+"${SPLIT[@]}"})
  for p in ${incl[@]+"${incl[@]}"}; do want_mp[$p]=1; done
  for p in ${excl[@]+"${excl[@]}"}; do excl_mp[$p]=1; done
  if ((${#incl[@]} == 0)); then
    auto=1
    if ! compute_auto_excluded; then add_error "$LAST_ERR"; return "$EX_INTERNAL"; fi
  fi

  for p in ${incl[@]+"${incl[@]}"}; do
    j=0
    for ((i = 0; i < ${#MT_TARGET[@]}; i++)); do
      if [[ ${MT_TARGET[i]} == "$p" ]]; then j=1; break; fi
    done
    if ((j == 0)); then add_error "IncludeMountpoints: $p is not a mountpoint"; rc=$EX_INVALID; fi
  done
  ((rc == 0)) || return "$rc"

  for ((i = 0; i < ${#MT_TARGET[@]}; i++)); do
    if [[ -n ${excl_mp[${MT_TARGET[i]}]:-} ]]; then excl_dev[${MT_MAJMIN[i]}]=1; fi
  done

  for ((i = 0; i < ${#MT_TARGET[@]}; i++)); do
    mm=${MT_MAJMIN[i]}
    if ((!auto)); then
      if [[ -z ${want_mp[${MT_TARGET[i]}]:-} ]]; then
        if is_freezable_auto "$i" && [[ -z ${seen_skip[$mm]:-} ]]; then
          seen_skip[$mm]=1
          if [[ -n ${PROTECTED[$mm]:-} ]]; then
            add_skipped "$i" "protected: ${PROTECTED[$mm]}"
          else
            add_skipped "$i" "not in IncludeMountpoints"
          fi
        fi
        continue
      fi
    elif ! is_freezable_auto "$i"; then
      continue
    fi
    why=''
    if [[ -n ${PROTECTED[$mm]:-} ]]; then
      if ((!auto)); then
        add_error "refusing to freeze ${MT_TARGET[i]}: it is the ${PROTECTED[$mm]}"
        rc=$EX_INVALID
      fi
      why="protected: ${PROTECTED[$mm]}"
    elif [[ -n ${excl_dev[$mm]:-} ]]; then
      why="in ExcludeMountpoints"
    elif [[ -n ${AUTO_EXCLUDED[$mm]:-} ]]; then
      why="left out of automatic selection: holds ${AUTO_EXCLUDED[$mm]}"
    fi
    if [[ -n $why ]]; then
      if [[ -z ${seen_skip[$mm]:-} ]]; then
        seen_skip[$mm]=1
        add_skipped "$i" "$why"
      fi
      continue
    fi
    cand+=("$i")
  done
  ((rc == 0)) || return "$rc"

  # Every directory above a candidate mountpoint must be root's alone: whoever may rename
  # one of them can point the path elsewhere (the descriptors catch that, and this refuses
  # such a mountpoint outright, named in the output).
  TRUST=()
  for i in ${cand[@]+"${cand[@]}"}; do
    WALK=(/)
    if walk_path "${MT_TARGET[i]%/*}"; then
      spans+=("${#paths[@]} ${#WALK[@]}")
      paths+=("${WALK[@]}")
    else
      spans+=("0 0")
      unsafe[$i]=$LAST_ERR
    fi
  done
  ((${#paths[@]} == 0)) || check_trust "${paths[@]}"

  for ((j = 0; j < ${#cand[@]}; j++)); do
    i=${cand[j]} mm=${MT_MAJMIN[i]}
    for ((k = ${spans[j]%% *}; k < ${spans[j]%% *} + ${spans[j]#* }; k++)); do
      if [[ -n ${TRUST[${paths[k]}]} ]]; then unsafe[$i]=${TRUST[${paths[k]}]}; break; fi
    done
    if [[ -n ${unsafe[$i]:-} ]]; then
      if ((!auto)); then
        add_error "refusing to freeze ${MT_TARGET[i]}: a directory above it is not root's alone (${unsafe[$i]})"
        rc=$EX_INVALID
      fi
      add_skipped "$i" "unsafe path: ${unsafe[$i]}"
      UNSAFE_SKIPPED+=("$REPLY")
      continue
    fi
    if [[ -n ${chosen[$mm]:-} ]]; then
      # One freeze per filesystem: keep the shortest mountpoint, skip the others.
      k=${chosen[$mm]}
      if ((${#MT_TARGET[i]} < ${#MT_TARGET[k]})); then
        chosen[$mm]=$i
        add_skipped "$k" "same filesystem as ${MT_TARGET[i]}"
      else
        add_skipped "$i" "same filesystem as ${MT_TARGET[k]}"
      fi
      continue
    fi
    chosen[$mm]=$i
  done
  ((rc == 0)) || return "$rc"

  # Deepest mountpoint first: every fsfreeze call then reaches its mountpoint through
  # filesystems that are not frozen yet, and the thaw (reverse order) likewise.
  CH_ID=() CH_MAJMIN=() CH_FSTYPE=() CH_SOURCE_ESC=() CH_TARGET_ESC=() CH_DEV=()
  ((${#chosen[@]} > 0)) || return 0
  for mm in "${!chosen[@]}"; do
    i=${chosen[$mm]}
    p=${MT_TARGET[i]//[!\/]/}
    depth=${#p}
    order+=("$depth ${MT_TARGET_ESC[i]} $i")
  done
  while read -r depth p i; do
    CH_ID+=("${MT_ID[i]}")
    CH_MAJMIN+=("${MT_MAJMIN[i]}")
    CH_FSTYPE+=("${MT_FSTYPE[i]}")
    CH_SOURCE_ESC+=("${MT_SOURCE_ESC[i]}")
    CH_TARGET_ESC+=("${MT_TARGET_ESC[i]}")
    fs_json "${MT_TARGET[i]}" "${MT_SOURCE[i]}" "${MT_FSTYPE[i]}"
    OUT_FILESYSTEMS+=("$REPLY")
  done < <(printf '%s\n' "${order[@]}" | sort -k1,1nr -k2,2)
  return 0
}

# ==========================================================================================
# Hooks
# ==========================================================================================

close_hook_dir() {
  if [[ -n $HOOK_DIR_FD ]]; then
    exec {HOOK_DIR_FD}>&-
    HOOK_DIR_FD=''
  fi
}

# The hooks of directory $1 (executables named RE_HOOK_NAME, not backups or packaging
# leftovers), by name in C-locale order, into HOOK_FILES. Every path leading to the directory
# and to each hook, symbolic links resolved, must be root's alone (check_trust). The directory
# is then opened (HOOK_DIR_FD) and hooks run from that descriptor, so that renaming anything
# later changes nothing. A directory that does not exist holds no hooks.
list_hooks() {
  local dir=$1 f name p
  local -a paths=()
  HOOK_FILES=()
  close_hook_dir
  [[ -e $dir || -L $dir ]] || return 0
  TRUST=()
  trusted_path "$dir" || return 1
  dir=$REPLY
  if [[ ! -d $dir ]]; then LAST_ERR="$1 is not a directory"; return 1; fi
  for f in "$dir"/*; do
    name=${f##*/}
    [[ $name =~ $RE_HOOK_NAME ]] || continue
    case $name in
      *.disabled | *.sample | *.dpkg-* | *.rpmnew | *.rpmsave | *.rpmorig | *.swp | *~) continue ;;
    esac
    [[ -f $f && -x $f ]] || continue
    WALK=()
    walk_path "$f" || return 1
    paths+=("${WALK[@]}")
    HOOK_FILES+=("$name")
  done
  if ((${#paths[@]} > 0)); then
    check_trust "${paths[@]}"
    for p in "${paths[@]}"; do
      if [[ -n ${TRUST[$p]} ]]; then LAST_ERR=${TRUST[$p]}; HOOK_FILES=(); return 1; fi
    done
  fi
  exec {HOOK_DIR_FD}<"$dir"
  if ! [[ /proc/$BASHPID/fd/$HOOK_DIR_FD -ef $dir ]]; then
    LAST_ERR="$dir changed while it was being checked"
    HOOK_FILES=()
    return 1
  fi
}

# Args: phase name exit_code duration_ms timed_out
hook_json() {
  local ph nm
  json_string "$1"; ph=$REPLY
  json_string "$2"; nm=$REPLY
  REPLY="{\"phase\":$ph,\"name\":$nm,\"exit_code\":$3,\"duration_ms\":$4,\"timed_out\":$5}"
}

# Where hook logs go: the session directory, or when it is gone (the watchdog's or a restored
# thaw's run whose files were lost), $STATE_DIR/logs. In REPLY.
hook_log_dir() {
  REPLY=$1
  [[ -n $REPLY && -d $REPLY ]] && return 0
  REPLY=$STATE_DIR/logs
  [[ -d $REPLY ]] && return 0
  make_state_dir && return 0
  REPLY=''
}

# Runs the hooks of one phase. Pre-freeze: in name order, stopping at the first failure;
# each name is added to HOOKS_RAN (and the session) before it starts. Post-thaw: in reverse
# name order, all of them, but only the counterparts of pre-freeze hooks that ran: the
# post-thaw hook named N runs only if the pre-freeze hook named N was started for this run.
# Each under `timeout`, from the verified directory, with its output in a log file (never in
# our standard output, which the state machine parses).
# Args: phase thawed_by [session dir, default SESSION_DIR: where results and logs go].
# Returns 0 when every hook succeeded.
run_hooks() {
  local phase=$1 thawed_by=${2:-} record=${3:-$SESSION_DIR} dir=$PRE_HOOK_DIR name rc start t_out
  local failed=0 i wait_s filesystems='' logdir log line
  local -a files=()
  if [[ $phase == post-thaw ]]; then
    dir=$POST_HOOK_DIR
    [[ -n $HOOKS_RAN ]] || return 0
  fi
  if ! list_hooks "$dir"; then
    add_error "$phase hooks not run: $LAST_ERR"
    return 1
  fi
  if [[ $phase == post-thaw ]]; then
    for ((i = ${#HOOK_FILES[@]} - 1; i >= 0; i--)); do
      [[ ,$HOOKS_RAN, == *",${HOOK_FILES[i]},"* ]] && files+=("${HOOK_FILES[i]}")
    done
  else
    files=(${HOOK_FILES[@]+"${HOOK_FILES[@]}"})
  fi
  if ((${#files[@]} == 0)); then close_hook_dir; return 0; fi
  if ((${#CH_TARGET_ESC[@]} > 0)); then
    for ((i = 0; i < ${#CH_TARGET_ESC[@]}; i++)); do
      unescape "${CH_TARGET_ESC[i]}"
      filesystems+="$REPLY"$'\n'
    done
  elif [[ -n $record && -f $record/fs ]]; then
    while IFS= read -r line; do
      unescape "${line##* }"
      filesystems+="$REPLY"$'\n'
    done <"$record/fs"
  fi
  hook_log_dir "$record"; logdir=$REPLY
  wait_s=$((${#files[@]} * (HOOK_TIMEOUT + HOOK_KILL_AFTER_SECONDS + 1) + 5))
  exec 8>>"$STATE_DIR/hooks.lock"
  if ! flock -w "$wait_s" 8; then
    if [[ $phase == pre-freeze ]]; then
      exec 8>&-
      close_hook_dir
      add_error "pre-freeze hooks not run: another set of hooks is still running"
      return 1
    fi
    log "post-thaw hooks: another set of hooks is still running; running ours anyway"
  fi
  for name in "${files[@]}"; do
    log=/dev/null
    [[ -z $logdir ]] || log="$logdir/hook-$RUN_ID-$phase-$name.log"
    if [[ $phase == pre-freeze ]]; then
      HOOKS_RAN+=${HOOKS_RAN:+,}$name
      [[ -z $record || ! -d $record ]] || kv_set "$record/session" hooks_ran "$HOOKS_RAN"
    fi
    now; start=$NOW_MS
    rc=0
    (
      cd -P "/proc/self/fd/$HOOK_DIR_FD" &&
        exec env ACB_PHASE="$phase" ACB_RUN_ID="$RUN_ID" ACB_MAX_FREEZE_SECONDS="$MAX_FREEZE_SECONDS" \
          ACB_HOOK_TIMEOUT_SECONDS="$HOOK_TIMEOUT" ACB_HOOK_STATE_DIR="$STATE_DIR/hooks" \
          ACB_FILESYSTEMS="$filesystems" ACB_THAWED_BY="$thawed_by" \
          timeout -k "$HOOK_KILL_AFTER_SECONDS" "$HOOK_TIMEOUT" "./$name" "$phase"
    ) </dev/null >"$log" 2>&1 8>&- 9>&- || rc=$?
    now
    t_out=false
    if ((rc == 124 || rc == 137)); then t_out=true; fi
    if [[ -s $log ]]; then
      tail -n "$HOOK_LOG_LINES" -- "$log" | sed "s/^/[$phase $name] /" >&2 || true
    fi
    hook_json "$phase" "$name" "$rc" "$((NOW_MS - start))" "$t_out"
    OUT_HOOKS+=("$REPLY")
    if [[ -n $record && -d $record ]]; then printf '%s\n' "$REPLY" >>"$record/hooks"; fi
    if ((rc != 0)); then
      failed=1
      if [[ $t_out == true ]]; then
        add_error "$phase hook $name timed out after ${HOOK_TIMEOUT}s"
      else
        add_error "$phase hook $name failed with exit code $rc"
      fi
      [[ $phase == pre-freeze ]] && break
    fi
  done
  flock -u 8 || true
  exec 8>&-
  close_hook_dir
  return "$failed"
}

# ==========================================================================================
# Freeze, thaw, watchdog
# ==========================================================================================

# The records of session file $1 (see RE_RECORD) into the REC_* arrays, in freeze order.
load_records() {
  local line
  REC_FD=() REC_ID=() REC_MM=() REC_DEV=() REC_FSTYPE=() REC_SRC=() REC_ESC=()
  [[ -f $1 ]] || return 0
  while IFS= read -r line; do
    [[ $line =~ $RE_RECORD ]] || continue
    REC_FD+=("${BASH_REMATCH[1]}") REC_ID+=("${BASH_REMATCH[2]}") REC_MM+=("${BASH_REMATCH[3]}")
    REC_DEV+=("${BASH_REMATCH[4]}") REC_FSTYPE+=("${BASH_REMATCH[5]}")
    REC_SRC+=("${BASH_REMATCH[6]}") REC_ESC+=("${BASH_REMATCH[7]}")
  done <"$1"
}

# Opens our own descriptor $2 on path $1 (no error output), in REPLY; fails quietly.
open_dir() {
  local h
  { exec {h}<"$1"; } 2>/dev/null || return 1
  REPLY=$h
}

# For each record, a descriptor of ours checked to be that very filesystem, into REC_H; or
# a final state into REC_STATE (not-mounted, or thaw-failed when it cannot be reached by its
# identity). In order of preference: a descriptor this command already holds (HANDLE); the
# watchdog's (its own pins; or reopened from /proc/<watchdog>/fd/N while it lives); else the
# mountpoint the mount table shows for that mount ID now. Each is checked to be on the
# recorded mount (mount ID) and device before it is used.
acquire_handles() {
  local i j h mp want table=0
  local -a hs=() idx=() wants=()
  REC_H=() REC_STATE=()
  for ((i = 0; i < ${#REC_ID[@]}; i++)); do
    REC_H[i]='' REC_STATE[i]=''
    unescape "${REC_ESC[i]}"; mp=$REPLY
    # (the watchdog checked its own when it pinned them)
    if ((IS_WATCHDOG)); then REC_H[i]=${REC_FD[i]}; continue; fi
    h=${HANDLE[${REC_ID[i]}]:-}
    if [[ -z $h && -n $WD_PID ]] && open_dir "/proc/$WD_PID/fd/${REC_FD[i]}"; then h=$REPLY; fi
    if [[ -z $h ]]; then
      ((table)) || { read_mounts || true; table=1; }
      REPLY=''
      for ((j = 0; j < ${#MT_ID[@]}; j++)); do
        if [[ ${MT_ID[j]} == "${REC_ID[i]}" ]]; then REPLY=${MT_TARGET[j]}; fi
      done
      if [[ -z $REPLY ]]; then
        REC_STATE[i]=not-mounted
        log "thaw: $mp (mount ${REC_ID[i]}) is not mounted any more; nothing to thaw"
        continue
      fi
      open_dir "$REPLY" && h=$REPLY
    fi
    want=${REC_DEV[i]}
    if [[ -n $h ]]; then
      fd_mnt_id "$h"
      if [[ -n $REPLY && $REPLY != "${REC_ID[i]}" ]]; then exec {h}>&-; h=''; fi
      # Without a mount ID, the device is all there is: the recorded one, or the mount table's.
      if [[ -z $REPLY && $want == - ]]; then want=${REC_MM[i]}; fi
    fi
    if [[ -z $h ]]; then
      REC_STATE[i]=thaw-failed
      add_error "cannot reach $mp by its identity (mount ${REC_ID[i]}): it was moved or mounted over and its watchdog is gone"
      continue
    fi
    REC_H[i]=$h
    hs+=("$h") idx+=("$i") wants+=("$want")
  done
  ((${#hs[@]} > 0)) || return 0
  fd_devs "${hs[@]}" || DEVS=()
  for ((j = 0; j < ${#idx[@]}; j++)); do
    i=${idx[j]}
    if [[ -z ${DEVS[j]:-} || (${wants[j]} != - && ${DEVS[j]} != "${wants[j]}") ]]; then
      REC_STATE[i]=thaw-failed
      unescape "${REC_ESC[i]}"
      add_error "cannot reach $REPLY by its identity: device ${DEVS[j]:-unknown}, frozen as ${wants[j]}"
    fi
  done
}

# Thaws the filesystems recorded in session directory $1, in reverse freeze order, each
# through a descriptor checked to be that filesystem (acquire_handles). "Not frozen" (EINVAL)
# through such a descriptor counts as done: it is the very filesystem this run froze. With
# $2 = token, stops as soon as that session is closed (the watchdog thawing without the
# lock). Sets THAW_FAILURES and, unless $3 = quiet, OUT_FILESYSTEMS with each one's state.
thaw_pass() {
  load_records "$1/fs"
  thaw_records "$@"
}

# As thaw_pass, on the records already loaded.
thaw_records() {
  local dir=$1 guard=${2:-} quiet=${3:-} i h
  THAW_FAILURES=0
  ((${#REC_ID[@]} > 0)) || return 0
  acquire_handles
  thaw_each "$dir" "$guard" "$quiet"
  # Descriptors opened here are closed again (hooks, which run next, must not inherit them);
  # the freeze command's own (HANDLE) and the watchdog's pins stay.
  for ((i = 0; i < ${#REC_H[@]}; i++)); do
    h=${REC_H[i]}
    if [[ -n $h && $IS_WATCHDOG == 0 && -z ${HANDLE[${REC_ID[i]}]:-} ]]; then exec {h}>&-; fi
  done
}

# Thaws each loaded record through its descriptor. Args: dir guard quiet.
thaw_each() {
  local dir=$1 guard=$2 quiet=$3 i out state mp
  [[ -n $quiet ]] || OUT_FILESYSTEMS=()
  for ((i = ${#REC_ID[@]} - 1; i >= 0; i--)); do
    if [[ -n $guard ]] && session_closed "$dir" "$guard"; then return 0; fi
    unescape "${REC_ESC[i]}"; mp=$REPLY
    state=${REC_STATE[i]}
    if [[ -z $state ]]; then
      if out=$(fsfreeze -u "/proc/self/fd/${REC_H[i]}" 2>&1); then
        state=thawed
        log "thawed $mp"
      elif [[ $out == *"Invalid argument"* ]]; then
        state=not-frozen
      else
        state=thaw-failed
        add_error "thaw of $mp failed: ${out##*: }"
      fi
    fi
    if [[ $state == thaw-failed ]]; then THAW_FAILURES=$((THAW_FAILURES + 1)); fi
    if [[ -z $quiet ]]; then
      unescape "${REC_SRC[i]}"
      fs_json "$mp" "$REPLY" "${REC_FSTYPE[i]}" "$state"
      OUT_FILESYSTEMS=("$REPLY" ${OUT_FILESYSTEMS[@]+"${OUT_FILESYSTEMS[@]}"})
    fi
  done
}

# Is $1 the pid of a root process running our watchdog for run $2 (token $3 when given)?
is_watchdog() {
  local a
  local -a args=()
  [[ $1 =~ ^[0-9]+$ && -O /proc/$1 && /proc/$1/exe -ef $BASH ]] || return 1
  { while IFS= read -r -d '' a; do args+=("$a"); done <"/proc/$1/cmdline"; } 2>/dev/null || true
  [[ ${args[2]:-} == --watchdog && ${args[3]:-} == "$2" && ${args[5]:-} == "$STATE_DIR" ]] || return 1
  [[ -z ${3:-} || ${args[4]:-} == "$3" ]] || return 1
  WD_ARGS=("${args[@]:3}")
}

# Is the watchdog of session dir $1 (token $2) alive? Its pid in REPLY.
watchdog_pid_alive() {
  local pid=''
  [[ -f $1/watchdog.pid ]] || return 1
  read -r pid <"$1/watchdog.pid" || return 1
  is_watchdog "$pid" "${1##*/}" "$2" || return 1
  REPLY=$pid
}

# Finds the live watchdog of run $1 by its command line, without any file (its session
# directory may be gone): WD_PID, WD_ARGS.
find_watchdog() {
  local p
  for p in /proc/[0-9]*; do
    if is_watchdog "${p#/proc/}" "$1"; then WD_PID=${p#/proc/}; return 0; fi
  done
  return 1
}

# Args: session dir, token.
cancel_watchdog() {
  if watchdog_pid_alive "$1" "$2"; then
    kill -TERM "$REPLY" 2>/dev/null || true
  fi
}

# Closes the session in $1 (run id $2): records who thawed and when, clears `active`
# (if it still names this run) and cancels the watchdog. Args: dir run thawed_by
# thaw_start_ms thaw_start_iso done_ms.
close_session() {
  local dir=$1 run=$2 by=$3 tok=''
  read -r tok <"$dir/token" 2>/dev/null || true
  {
    printf 'thawed_by=%s\n' "$by"
    printf 'thawed_at_ms=%s\nthawed_at=%s\nthaw_done_ms=%s\n' "$4" "$5" "$6"
    if [[ -f $dir/fired ]]; then
      local f_ms f_iso
      read -r f_ms f_iso <"$dir/fired" || true
      printf 'watchdog_thawed_at_ms=%s\nwatchdog_thawed_at=%s\n' "${f_ms:-}" "${f_iso:-}"
    elif [[ $by == watchdog || $by == recovery ]]; then
      printf 'watchdog_thawed_at_ms=%s\nwatchdog_thawed_at=%s\n' "$4" "$5"
    fi
  } >"$dir/result.tmp"
  mv -f -- "$dir/result.tmp" "$dir/result"
  read_active
  if [[ $REPLY == "$run" ]]; then rm -f -- "$STATE_DIR/active"; fi
  [[ $by == watchdog ]] || cancel_watchdog "$dir" "$tok"
}

# Fills the result fields from a closed or open session directory.
# Args: session dir.
report_session() {
  local dir=$1
  local S_started_at='' S_frozen_at='' S_deadline='' S_started_ms=''
  local R_thawed_by='' R_thawed_at='' R_thaw_done_ms='' R_watchdog_thawed_at=''
  kv_load "$dir/session" S_ || true
  OUT_STARTED_AT=$S_started_at
  OUT_FROZEN_AT=$S_frozen_at
  WD_DEADLINE=$S_deadline
  if kv_load "$dir/result" R_; then
    OUT_THAWED_AT=$R_thawed_at
    if [[ -n $S_started_ms && -n $R_thaw_done_ms ]]; then
      OUT_DURATION_MS=$((R_thaw_done_ms - S_started_ms))
    fi
    case $R_thawed_by in
      thaw) WD_OUTCOME=cancelled ;;
      watchdog | recovery) WD_OUTCOME=thawed_first ;;
      *) WD_OUTCOME=none ;;
    esac
    if [[ -n $R_watchdog_thawed_at ]]; then
      WD_OUTCOME=thawed_first
      WD_THAWED_AT=$R_watchdog_thawed_at
      OUT_THAWED_AT=$R_watchdog_thawed_at
    fi
  fi
}

close_handles() {
  local id h
  ((${#HANDLE[@]} > 0)) || return 0
  for id in "${!HANDLE[@]}"; do
    h=${HANDLE[$id]}
    exec {h}>&-
  done
  HANDLE=()
}

# Undoes the current run's freeze command: thaws and closes its session (if armed), records
# a never-armed session as rolled back, and runs the post-thaw counterparts of the pre-freeze
# hooks that ran.
rollback() {
  local start_ms start_iso
  if ((SESSION_ARMED)); then
    now; start_ms=$NOW_MS; start_iso=$NOW_ISO
    thaw_pass "$SESSION_DIR"
    now
    if ((THAW_FAILURES == 0)); then
      close_session "$SESSION_DIR" "$RUN_ID" rollback "$start_ms" "$start_iso" "$NOW_MS"
      SESSION_ARMED=0
      report_session "$SESSION_DIR"
      if [[ $WD_OUTCOME == none ]]; then WD_OUTCOME=cancelled; fi
    else
      WD_OUTCOME=armed
      add_error "rollback could not thaw everything; the watchdog stays armed"
    fi
  elif [[ -n $SESSION_DIR && -d $SESSION_DIR && ! -f $SESSION_DIR/result ]]; then
    now
    close_session "$SESSION_DIR" "$RUN_ID" rollback "$NOW_MS" "$NOW_ISO" "$NOW_MS"
  fi
  unlock_state
  close_handles
  if ((PRE_HOOKS_STARTED)); then
    PRE_HOOKS_STARTED=0
    run_hooks post-thaw rollback || true
  fi
}

# A session whose freeze command and watchdog are both gone, past its deadline, would stay
# frozen for ever: thaw it. Called with the state lock held.
recover_stale() {
  local run dir S_deadline_ms='' S_hooks_ran='' S_hook_timeout_seconds='' tok='' start_ms start_iso
  local own_timeout=$HOOK_TIMEOUT own_run=$RUN_ID own_ran=$HOOKS_RAN
  read_active; run=$REPLY
  [[ -n $run ]] || return 0
  dir=$STATE_DIR/runs/$run
  if [[ ! $run =~ $RE_RUN_ID || ! -d $dir ]]; then
    log "active names an unknown run ($run); clearing it"
    rm -f -- "$STATE_DIR/active"
    return 0
  fi
  kv_load "$dir/session" S_ || true
  read -r tok <"$dir/token" 2>/dev/null || true
  if [[ -f $dir/watchdog.pid ]]; then
    read -r WD_PID <"$dir/watchdog.pid" || true
    if is_watchdog "$WD_PID" "$run" "$tok"; then WD_PID=''; return 0; fi
  fi
  WD_PID=''
  now
  [[ -n $S_deadline_ms ]] && ((NOW_MS <= S_deadline_ms + STALE_GRACE_MS)) && return 0
  log "run $run is frozen past its deadline and its watchdog is gone: thawing it"
  start_ms=$NOW_MS; start_iso=$NOW_ISO
  thaw_pass "$dir" '' quiet
  now
  if ((THAW_FAILURES == 0)); then
    close_session "$dir" "$run" recovery "$start_ms" "$start_iso" "$NOW_MS"
    OUT_NOTE="recovered the stale freeze of run $run"
    if [[ $S_hooks_ran =~ $RE_HOOK_NAMES && $S_hook_timeout_seconds =~ $RE_HOOK_TIMEOUT_SECONDS ]]; then
      HOOK_TIMEOUT=$S_hook_timeout_seconds RUN_ID=$run HOOKS_RAN=$S_hooks_ran
      run_hooks post-thaw recovery "$dir" || true
    fi
  fi
  HOOK_TIMEOUT=$own_timeout RUN_ID=$own_run HOOKS_RAN=$own_ran
}

# Starts the watchdog and waits (bounded) until it holds a checked descriptor on each
# chosen filesystem. Its command line carries everything it needs to thaw (records, deadline,
# which pre-freeze hooks ran), so that no loss of files can disarm it.
spawn_watchdog() {
  local copy=$SESSION_DIR/watchdog.sh waited=0 i
  local -a pins=()
  for ((i = 0; i < ${#CH_ID[@]}; i++)); do
    pins+=("$((PIN_FD_BASE + i)) ${CH_ID[i]} ${CH_MAJMIN[i]} - ${CH_FSTYPE[i]} ${CH_SOURCE_ESC[i]} ${CH_TARGET_ESC[i]}")
  done
  cp -- "$SELF" "$copy"
  chmod 0700 -- "$copy"
  (
    cd / || exit 1
    exec setsid "$BASH" "$copy" --watchdog "$RUN_ID" "$TOKEN" "$STATE_DIR" "$DEADLINE_MS" "$HOOKS_RAN" "${pins[@]}"
  ) </dev/null >>"$SESSION_DIR/watchdog.log" 2>&1 8>&- 9>&- &
  WD_PID=$!
  while ((waited < WATCHDOG_START_SECONDS * 100)); do
    if [[ -s $SESSION_DIR/watchdog.error ]]; then
      read -r LAST_ERR <"$SESSION_DIR/watchdog.error" || true
      WD_PID=''
      return 1
    fi
    if watchdog_pid_alive "$SESSION_DIR" "$TOKEN"; then WD_PID=$REPLY; return 0; fi
    sleep 0.01
    waited=$((waited + 1))
  done
  kill -KILL "$WD_PID" 2>/dev/null || true
  WD_PID=''
  LAST_ERR="the auto-thaw watchdog did not start"
  return 1
}

# This command's own descriptors on the watchdog's pins (HANDLE[mount ID]), each checked to
# be the chosen mount before anything is frozen through it; records the device in CH_DEV.
open_pins() {
  local i h
  local -a hs=()
  for ((i = 0; i < ${#CH_ID[@]}; i++)); do
    unescape "${CH_TARGET_ESC[i]}"
    if ! open_dir "/proc/$WD_PID/fd/$((PIN_FD_BASE + i))"; then
      LAST_ERR="cannot open the watchdog's descriptor on $REPLY"
      return 1
    fi
    h=$REPLY
    HANDLE[${CH_ID[i]}]=$h
    hs+=("$h")
    fd_mnt_id "$h"
    if [[ -n $REPLY && $REPLY != "${CH_ID[i]}" ]]; then
      unescape "${CH_TARGET_ESC[i]}"
      LAST_ERR="$REPLY is no longer the chosen filesystem"
      return 1
    fi
  done
  if ! fd_devs "${hs[@]}"; then LAST_ERR="cannot examine the pinned filesystems"; return 1; fi
  CH_DEV=("${DEVS[@]}")
}

cmd_freeze() {
  local i mm esc mp out rc active
  prepare_state_dir || finish "$EX_PREREQ"
  if ! lock_state "$FREEZE_LOCK_WAIT_SECONDS"; then
    add_error "another freeze or thaw is running on this instance"
    finish "$EX_BUSY"
  fi
  recover_stale
  read_active; active=$REPLY
  SESSION_DIR=$STATE_DIR/runs/$RUN_ID
  if [[ -z $active ]] && find_watchdog "$RUN_ID" && restore_session; then
    # Its files were lost, its watchdog lives: the freeze is still on
    active=$RUN_ID
  fi
  if [[ -n $active ]]; then
    if [[ $active == "$RUN_ID" ]]; then
      # A retry of our own freeze: report it, do not stack a second one.
      SESSION_DIR=$STATE_DIR/runs/$RUN_ID
      list_session_filesystems "$SESSION_DIR"
      report_session "$SESSION_DIR"
      WD_OUTCOME=armed
      OUT_STATUS=frozen
      OUT_NOTE="already frozen by this run"
      finish "$EX_OK"
    fi
    add_error "filesystems are frozen by run $active; nothing done"
    finish "$EX_BUSY"
  fi

  rc=0
  select_filesystems || rc=$?
  ((rc == 0)) || finish "$rc"
  OUT_SKIPPED=(${UNSAFE_SKIPPED[@]+"${UNSAFE_SKIPPED[@]}"})
  if ((${#CH_MAJMIN[@]} == 0)); then
    OUT_STATUS=nothing-to-freeze
    finish "$EX_OK"
  fi

  SESSION_DIR=$STATE_DIR/runs/$RUN_ID
  rm -rf -- "$SESSION_DIR"
  mkdir -m 0700 -- "$SESSION_DIR"
  now
  TOKEN="$RUN_ID.$$.$NOW_MS"
  printf '%s\n' "$TOKEN" >"$SESSION_DIR/token"
  kv_set "$SESSION_DIR/session" run_id "$RUN_ID"
  kv_set "$SESSION_DIR/session" max_freeze_seconds "$MAX_FREEZE_SECONDS"
  kv_set "$SESSION_DIR/session" hook_timeout_seconds "$HOOK_TIMEOUT"
  : >"$SESSION_DIR/fs"
  prune_runs

  PRE_HOOKS_STARTED=1
  if ! run_hooks pre-freeze ''; then
    rollback
    OUT_FILESYSTEMS=()
    finish "$EX_HOOK"
  fi
  if [[ -e $SESSION_DIR/abort ]]; then
    rollback
    add_error "a thaw for this run arrived before the freeze; nothing frozen"
    finish "$EX_INTERNAL"
  fi

  # Flush what can be flushed before anything blocks (best effort: coreutils < 8.24 has no -f).
  for ((i = 0; i < ${#CH_TARGET_ESC[@]}; i++)); do
    unescape "${CH_TARGET_ESC[i]}"
    timeout -k 5 "$PRE_SYNC_TIMEOUT_SECONDS" sync -f -- "$REPLY" 2>/dev/null || true
  done

  # Arm the watchdog before the first freeze, so that whatever happens to this process
  # from here on, the freeze ends by the deadline.
  now
  DEADLINE_MS=$((NOW_MS + MAX_FREEZE_SECONDS * 1000))
  kv_set "$SESSION_DIR/session" deadline_ms "$DEADLINE_MS"
  ms_to_iso "$DEADLINE_MS"
  kv_set "$SESSION_DIR/session" deadline "$REPLY"
  WD_DEADLINE=$REPLY
  write_atomic "$STATE_DIR/active" "$RUN_ID"
  SESSION_ARMED=1
  if ! spawn_watchdog || ! open_pins; then
    add_error "nothing frozen: $LAST_ERR"
    rollback
    finish "$EX_FREEZE"
  fi
  WD_OUTCOME=armed

  now
  OUT_STARTED_AT=$NOW_ISO
  kv_set "$SESSION_DIR/session" started_ms "$NOW_MS"
  kv_set "$SESSION_DIR/session" started_at "$NOW_ISO"
  for ((i = 0; i < ${#CH_MAJMIN[@]}; i++)); do
    mm=${CH_MAJMIN[i]} esc=${CH_TARGET_ESC[i]}
    unescape "$esc"; mp=$REPLY
    # Hard guard, at the last moment: never `/` nor a protected filesystem (the descriptor
    # is the chosen mount, so its filesystem is the one checked when choosing).
    if [[ $mp == / || -n ${PROTECTED[$mm]:-} ]]; then
      add_error "refusing to freeze $mp: protected"
      rollback
      finish "$EX_FREEZE"
    fi
    printf '%s %s %s %s %s %s %s\n' "$((PIN_FD_BASE + i))" "${CH_ID[i]}" "$mm" "${CH_DEV[i]}" \
      "${CH_FSTYPE[i]}" "${CH_SOURCE_ESC[i]}" "$esc" >>"$SESSION_DIR/fs"
    if ! out=$(fsfreeze -f "/proc/self/fd/${HANDLE[${CH_ID[i]}]}" 2>&1); then
      if [[ $out == *"Device or resource busy"* ]]; then
        # Frozen by someone else: not ours to thaw.
        sed -i '$d' "$SESSION_DIR/fs"
        add_error "freeze of $mp failed: it is already frozen by another process"
      else
        add_error "freeze of $mp failed: ${out##*: }"
      fi
      rollback
      finish "$EX_FREEZE"
    fi
    log "froze $mp"
    if [[ -e $SESSION_DIR/fired ]]; then
      add_error "the watchdog fired before every filesystem was frozen (MaxFreezeSeconds $MAX_FREEZE_SECONDS)"
      rollback
      finish "$EX_FREEZE"
    fi
    if [[ -e $SESSION_DIR/abort ]]; then
      add_error "a thaw for this run arrived during the freeze"
      rollback
      finish "$EX_INTERNAL"
    fi
  done
  now
  OUT_FROZEN_AT=$NOW_ISO
  kv_set "$SESSION_DIR/session" frozen_ms "$NOW_MS"
  kv_set "$SESSION_DIR/session" frozen_at "$NOW_ISO"
  # From here on the watchdog and the thaw own the session
  SESSION_ARMED=0
  unlock_state
  OUT_STATUS=frozen
  finish "$EX_OK"
}

# The filesystems listed in a session, without touching them, into OUT_FILESYSTEMS.
list_session_filesystems() {
  local i
  OUT_FILESYSTEMS=()
  load_records "$1/fs"
  for ((i = 0; i < ${#REC_ID[@]}; i++)); do
    unescape "${REC_SRC[i]}"
    local src=$REPLY
    unescape "${REC_ESC[i]}"
    fs_json "$REPLY" "$src" "${REC_FSTYPE[i]}"
    OUT_FILESYSTEMS+=("$REPLY")
  done
}

# A thaw that finds no session for its run while the run's watchdog still lives (the state
# directory was removed or emptied while frozen): rebuilds the session from the watchdog's
# command line, so that the thaw goes on as usual, through the watchdog's descriptors. The
# watchdog's lock is taken too when it is no longer the state directory's lock file.
restore_session() {
  local run=${WD_ARGS[0]} token=${WD_ARGS[1]} deadline=${WD_ARGS[3]} ran=${WD_ARGS[4]} pin h
  [[ $token =~ ^[A-Za-z0-9_.-]+$ && $deadline =~ ^[0-9]+$ && $ran =~ $RE_HOOK_NAMES ]] || return 1
  rm -rf -- "$SESSION_DIR"
  mkdir -m 0700 -- "$SESSION_DIR"
  printf '%s\n' "$token" >"$SESSION_DIR/token"
  kv_set "$SESSION_DIR/session" run_id "$run"
  kv_set "$SESSION_DIR/session" deadline_ms "$deadline"
  ms_to_iso "$deadline"
  kv_set "$SESSION_DIR/session" deadline "$REPLY"
  kv_set "$SESSION_DIR/session" hooks_ran "$ran"
  kv_set "$SESSION_DIR/session" hook_timeout_seconds "$HOOK_TIMEOUT"
  kv_set "$SESSION_DIR/session" restored 1
  for pin in "${WD_ARGS[@]:5}"; do
    [[ $pin =~ $RE_RECORD ]] && printf '%s\n' "$pin" >>"$SESSION_DIR/fs"
  done
  printf '%s\n' "$WD_PID" >"$SESSION_DIR/watchdog.pid"
  if ! [[ /proc/$WD_PID/fd/9 -ef $STATE_DIR/lock ]]; then
    { exec {h}>>"/proc/$WD_PID/fd/9"; } 2>/dev/null && flock -w "$THAW_LOCK_WAIT_SECONDS" "$h" || return 1
  fi
  write_atomic "$STATE_DIR/active" "$run"
}

cmd_thaw() {
  local active dir start_ms start_iso f_ms='' f_iso='' tok='' line
  local R_thawed_by='' S_hooks_ran='' S_restored=''
  prepare_state_dir || finish "$EX_PREREQ"
  dir=$STATE_DIR/runs/$RUN_ID
  SESSION_DIR=$dir
  if ! lock_state "$THAW_LOCK_WAIT_SECONDS"; then
    # A freeze command is still running (hung in a hook or a freeze). Thaw what this run
    # froze without the lock and ask that command to stop; the watchdog stays armed.
    if [[ -d $dir && ! -f $dir/result ]]; then
      : >"$dir/abort"
      read -r tok <"$dir/token" 2>/dev/null || true
      watchdog_pid_alive "$dir" "$tok" && WD_PID=$REPLY
      thaw_pass "$dir"
      add_error "the freeze command of this run is still running: thawed what it had frozen and asked it to stop"
      WD_OUTCOME=armed
      finish "$EX_THAW"
    fi
    OUT_STATUS=thawed
    OUT_NOTE="nothing of this run is frozen (another command holds the state lock)"
    finish "$EX_OK"
  fi
  recover_stale
  read_active; active=$REPLY
  if [[ $active != "$RUN_ID" && ! -f $dir/result ]] && find_watchdog "$RUN_ID"; then
    if [[ -n $active ]] || ! restore_session; then
      add_error "this run's session files are gone and its watchdog could not be taken over; it thaws at its deadline"
      WD_OUTCOME=armed
      finish "$EX_THAW"
    fi
    active=$RUN_ID
  fi
  if [[ $active == "$RUN_ID" ]]; then
    kv_load "$dir/session" S_ || true
    if [[ -n $S_restored ]]; then
      OUT_NOTE="this run's session files were gone; thawed through its watchdog's descriptors"
    fi
    read -r tok <"$dir/token" 2>/dev/null || true
    watchdog_pid_alive "$dir" "$tok" && WD_PID=$REPLY
    now; start_ms=$NOW_MS; start_iso=$NOW_ISO
    thaw_pass "$dir"
    now
    if ((THAW_FAILURES > 0)); then
      report_session "$dir"
      WD_OUTCOME=armed
      finish "$EX_THAW"
    fi
    if [[ -f $dir/fired ]]; then
      read -r f_ms f_iso <"$dir/fired" || true
    fi
    close_session "$dir" "$RUN_ID" thaw "$start_ms" "$start_iso" "$NOW_MS"
    report_session "$dir"
    if [[ -n $f_ms ]] && ((f_ms > start_ms)); then
      # The watchdog fired after this thaw had begun: the thaw came first.
      WD_OUTCOME=cancelled WD_THAWED_AT='' OUT_THAWED_AT=$start_iso
    fi
    unlock_state
    HOOKS_RAN=$S_hooks_ran
    [[ $HOOKS_RAN =~ $RE_HOOK_NAMES ]] || HOOKS_RAN=''
    run_hooks post-thaw thaw || true
    OUT_STATUS=thawed
    finish "$EX_OK"
  fi

  if [[ -f $dir/result ]]; then
    # Already thawed (by an earlier thaw, the watchdog, a rollback or a recovery): report it.
    list_session_filesystems "$dir"
    report_session "$dir"
    kv_load "$dir/result" R_ || true
    if [[ -f $dir/hooks ]]; then
      while IFS= read -r line; do
        [[ $line == *'"phase":"post-thaw"'* ]] && OUT_HOOKS+=("$line")
      done <"$dir/hooks"
    fi
    case $R_thawed_by in
      thaw) OUT_NOTE="already thawed by an earlier thaw" ;;
      watchdog) OUT_NOTE="the watchdog thawed before this thaw arrived" ;;
      recovery) OUT_NOTE="a later run found this freeze stale and thawed it" ;;
      rollback) OUT_NOTE="the freeze of this run failed and was rolled back" ;;
    esac
    unlock_state
    OUT_STATUS=thawed
    finish "$EX_OK"
  fi

  # Nothing of this run is frozen, and nothing says which of its pre-freeze hooks ran: no
  # post-thaw hook runs.
  OUT_STATUS=thawed
  OUT_NOTE="nothing of this run is frozen"
  if [[ -n $active ]]; then OUT_NOTE+="; the freeze of run $active was left alone"; fi
  unlock_state
  finish "$EX_OK"
}

cmd_dry_run() {
  local rc=0 f pre=',' unpaired=''
  select_filesystems || rc=$?
  ((rc == 0)) || finish "$rc"
  OUT_STATUS=dry-run
  if list_hooks "$PRE_HOOK_DIR"; then
    for f in ${HOOK_FILES[@]+"${HOOK_FILES[@]}"}; do
      hook_json pre-freeze "$f" null null false; OUT_HOOKS+=("$REPLY")
      pre+="$f,"
    done
  else
    OUT_NOTE="pre-freeze hooks would not run: $LAST_ERR"
  fi
  if list_hooks "$POST_HOOK_DIR"; then
    for f in ${HOOK_FILES[@]+"${HOOK_FILES[@]}"}; do
      if [[ $pre == *",$f,"* ]]; then
        hook_json post-thaw "$f" null null false; OUT_HOOKS+=("$REPLY")
      else
        unpaired+=" $f"
      fi
    done
  else
    OUT_NOTE+="${OUT_NOTE:+; }post-thaw hooks would not run: $LAST_ERR"
  fi
  if [[ -n $unpaired ]]; then
    OUT_NOTE+="${OUT_NOTE:+; }post-thaw hooks without a pre-freeze hook of the same name never run:$unpaired"
  fi
  close_hook_dir
  finish "$EX_OK"
}

# --- the watchdog -------------------------------------------------------------------------

# Cancellation (the thaw, under the state lock) ends the watchdog and its sleep, unless it is
# thawing at that moment (then it finishes, and finds the session closed).
# shellcheck disable=SC2317 # invoked by trap
watchdog_stop() {
  ((FIRING)) && return 0
  if [[ -n $SLEEP_PID ]]; then kill -TERM "$SLEEP_PID" 2>/dev/null || true; fi
  log "watchdog: cancelled"
  exit 0
}

# Pins the filesystem of record $1 (RE_RECORD): opens its mountpoint as the record's
# descriptor (in REPLY) and checks that it is the recorded mount (mount ID). Where the kernel
# shows no mount ID, appends the MAJ:MIN to check the device against to PIN_DEV, else '-'.
pin_record() {
  local fd mm id path
  [[ $1 =~ $RE_RECORD ]] || { LAST_ERR="bad record: $1"; return 1; }
  fd=${BASH_REMATCH[1]} id=${BASH_REMATCH[2]} mm=${BASH_REMATCH[3]}
  unescape "${BASH_REMATCH[7]}"; path=$REPLY
  if ! { eval "exec $fd<\"\$path\""; } 2>/dev/null; then LAST_ERR="cannot open $path"; return 1; fi
  fd_mnt_id "$fd"
  if [[ -z $REPLY ]]; then PIN_DEV+=("$mm"); else PIN_DEV+=(-); fi
  if [[ -n $REPLY && $REPLY != "$id" ]]; then
    eval "exec $fd>&-"
    LAST_ERR="$path is no longer the chosen filesystem (mount $REPLY, not $id)"
    return 1
  fi
  REPLY=$fd
}

# Runs detached (setsid, cwd /, output to the session's watchdog.log). Its arguments: run,
# token, state directory, deadline (epoch ms), pre-freeze hooks that ran, then one record per
# chosen filesystem (RE_RECORD; the device '-'). It opens each record's mountpoint as the
# record's descriptor and checks it is that mount (mount ID, else device), then reports in
# (watchdog.pid, or watchdog.error). At the deadline it thaws through those descriptors unless
# the session was closed (a written result with its token: a missing file never counts), runs
# the post-thaw counterparts, and exits. It keeps thawing every second while a freeze command
# still holds the lock, so that a freeze that completes late is undone too.
watchdog_main() {
  set +eu
  local run=$1 token=$2 ran=$5 give_up_ms got_lock i others fired_ms='' fired_iso=''
  local S_hook_timeout_seconds=''
  local -a records=("${@:6}") fds=()
  IS_WATCHDOG=1
  trap watchdog_stop TERM
  trap '' INT HUP
  load_params
  STATE_DIR=$3 DEADLINE_MS=$4
  [[ $run =~ $RE_RUN_ID && $STATE_DIR =~ $RE_DIRECTORY && $DEADLINE_MS =~ ^[0-9]+$ && $ran =~ $RE_HOOK_NAMES ]] || exit 2
  RUN_ID=$run COMMAND=watchdog TOKEN=$token HOOKS_RAN=$ran
  SESSION_DIR=$STATE_DIR/runs/$run
  cd / || exit 2
  export TMPDIR="$STATE_DIR/tmp"
  kv_load "$SESSION_DIR/session" S_
  [[ $S_hook_timeout_seconds =~ $RE_HOOK_TIMEOUT_SECONDS ]] && HOOK_TIMEOUT=$S_hook_timeout_seconds
  CLOSE_PINS='8>&- 9>&-'
  LAST_ERR=''
  for ((i = 0; i < ${#records[@]}; i++)); do
    pin_record "${records[i]}" || break
    fds+=("$REPLY")
    CLOSE_PINS+=" $REPLY>&-"
  done
  # Without mount IDs (Linux < 3.15) the device is the identity.
  if [[ -z $LAST_ERR ]] && ! fd_devs "${fds[@]}"; then LAST_ERR="cannot examine the chosen filesystems"; fi
  for ((i = 0; ${#LAST_ERR} == 0 && i < ${#fds[@]}; i++)); do
    if [[ ${PIN_DEV[i]} != - && ${PIN_DEV[i]} != "${DEVS[i]}" ]]; then
      LAST_ERR="a chosen mountpoint is no longer the chosen filesystem (device ${DEVS[i]})"
    fi
  done
  if [[ -n $LAST_ERR ]]; then
    log "watchdog: $LAST_ERR"
    write_atomic "$SESSION_DIR/watchdog.error" "$LAST_ERR"
    exit 3
  fi
  exec 9>>"$STATE_DIR/lock"
  write_atomic "$SESSION_DIR/watchdog.pid" "$$"
  log "watchdog: armed for run $run until $DEADLINE_MS, holding ${#fds[@]} filesystems"
  now
  sleep_ms "$((DEADLINE_MS - NOW_MS))"
  give_up_ms=$((DEADLINE_MS + WATCHDOG_GIVE_UP_SECONDS * 1000))
  while :; do
    got_lock=0
    flock -w 0.2 9 && got_lock=1
    if session_closed "$SESSION_DIR" "$token"; then log "watchdog: session closed; nothing to do"; exit 0; fi
    FIRING=1
    now
    if [[ -z $fired_ms ]]; then
      fired_ms=$NOW_MS fired_iso=$NOW_ISO
      [[ -e $SESSION_DIR/fired ]] || printf '%s %s\n' "$NOW_MS" "$NOW_ISO" >"$SESSION_DIR/fired"
      log "watchdog: deadline passed, thawing run $run (late by $((NOW_MS - DEADLINE_MS)) ms)"
    fi
    # What the freeze command recorded, when it can be read (a filesystem it found frozen by
    # someone else is not in it); else everything the watchdog holds.
    # (Not one that a later run, finding the files gone, froze again after someone else
    # thawed it: that one is the later run's.)
    if [[ -f $SESSION_DIR/fs ]]; then
      load_records "$SESSION_DIR/fs"
    else
      read_active
      others=' '
      if [[ -n $REPLY && $REPLY != "$run" && -f $STATE_DIR/runs/$REPLY/fs ]]; then
        load_records "$STATE_DIR/runs/$REPLY/fs"
        others+="${REC_ID[*]} "
      fi
      load_records /dev/null
      for ((i = 0; i < ${#records[@]}; i++)); do
        [[ ${records[i]} =~ $RE_RECORD && $others != *" ${BASH_REMATCH[2]} "* ]] || continue
        REC_FD+=("${BASH_REMATCH[1]}") REC_ID+=("${BASH_REMATCH[2]}") REC_MM+=("${BASH_REMATCH[3]}")
        REC_DEV+=(-) REC_FSTYPE+=("${BASH_REMATCH[5]}") REC_SRC+=("${BASH_REMATCH[6]}") REC_ESC+=("${BASH_REMATCH[7]}")
      done
    fi
    if ((got_lock)); then
      thaw_records "$SESSION_DIR" '' quiet
      if ((THAW_FAILURES == 0)); then
        now
        if [[ -d $SESSION_DIR ]]; then
          close_session "$SESSION_DIR" "$run" watchdog "$fired_ms" "$fired_iso" "$NOW_MS"
        fi
        flock -u 9
        log "watchdog: thawed run $run"
        FIRING=0
        eval "exec $CLOSE_PINS" # the hooks (and what they start) must not hold the filesystems
        run_hooks post-thaw watchdog
        exit 0
      fi
      flock -u 9
    else
      thaw_records "$SESSION_DIR" "$token" quiet
    fi
    FIRING=0
    now
    if ((NOW_MS > give_up_ms)); then
      log "watchdog: giving up on run $run after ${WATCHDOG_GIVE_UP_SECONDS}s"
      exit 1
    fi
    sleep_ms 1000
  done
}

# --- traps --------------------------------------------------------------------------------

# shellcheck disable=SC2317 # invoked by trap
on_err() { ERR_LINE=$1; ERR_CMD=$2; }

# shellcheck disable=SC2317 # invoked by trap
on_exit() {
  local rc=$?
  ((FINISHED)) && return 0
  ((IS_WATCHDOG)) && return 0
  set +e
  FINISHED=1
  if [[ -n $ERR_LINE ]]; then
    add_error "internal error at line $ERR_LINE: $ERR_CMD (exit $rc)"
  else
    add_error "unexpected exit (status $rc)"
  fi
  rollback
  OUT_STATUS=failed
  print_result "$EX_INTERNAL"
  exit "$EX_INTERNAL"
}

# shellcheck disable=SC2317 # invoked by trap
on_signal() {
  ((IS_WATCHDOG)) && exit 0
  set +e
  trap - TERM INT HUP
  FINISHED=1
  add_error "interrupted by SIG$1"
  rollback
  OUT_STATUS=failed
  print_result "$EX_INTERNAL"
  exit "$EX_INTERNAL"
}

main() {
  if [[ ${1:-} == --watchdog ]]; then
    shift
    watchdog_main "$@"
    exit 0
  fi
  trap 'on_err "$LINENO" "$BASH_COMMAND"' ERR
  trap on_exit EXIT
  trap 'on_signal TERM' TERM
  trap 'on_signal INT' INT
  trap 'on_signal HUP' HUP
  load_params
  validate_params || finish "$EX_INVALID"
  check_prereqs || finish "$EX_PREREQ"
  case $COMMAND in
    dry-run) cmd_dry_run ;;
    freeze) cmd_freeze ;;
    thaw) cmd_thaw ;;
  esac
  finish "$EX_INTERNAL"
}

# Sourced (by tests of single functions), it only defines them.
if [[ ${BASH_SOURCE[0]:-$0} == "$0" ]]; then main "$@"; fi
