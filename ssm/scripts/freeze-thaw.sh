#!/usr/bin/env bash
# freeze-thaw.sh: application-consistent freeze and thaw of a Linux instance's filesystems.
#
# Run by the app-consistent-backup SSM Command document (ssm/app-consistent-backup.yaml.tftpl),
# which assigns the ACB_* variables below from its parameters, or standalone, e.g.
#   ACB_COMMAND=dry-run ACB_RUN_ID=manual-1 bash freeze-thaw.sh
#
# Parameters, exit codes, output, hooks and the safety rules: ssm/README.md and
# docs/contracts.md section 3. Standard output carries one line, the JSON result;
# diagnostics and hook output go to standard error.
#
# The rules this script is built around:
#   * it never freezes `/`, /boot*, nor the filesystem holding the SSM agent's directories,
#     its own state directory, its working directory or itself, even when told to;
#   * before the first freeze it starts a detached watchdog that thaws everything after
#     MaxFreezeSeconds unless the thaw comes first;
#   * what it froze is written down (before each freeze) in a state directory that is never
#     frozen, so any later thaw, the watchdog or a later run can undo it;
#   * while anything is frozen it writes to no filesystem but the state directory's and
#     runs nothing that could (no here-documents: TMPDIR points into the state directory).
#
# Bash 4.2 or later (Amazon Linux 2, RHEL 7); util-linux findmnt, fsfreeze, flock, setsid;
# GNU coreutils. No jq, no python.

set -Eeuo pipefail
umask 077
export LC_ALL=C
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# --- exit codes (one meaning each; docs/contracts.md section 3) --------------------------
readonly EX_OK=0          # done: frozen, thawed, dry run, or nothing to freeze
readonly EX_INVALID=10    # invalid parameter (nothing done)
readonly EX_BUSY=11       # another run's freeze is active on this instance (nothing done)
readonly EX_HOOK=12       # a pre-freeze hook failed or timed out (nothing frozen)
readonly EX_FREEZE=13     # a filesystem failed to freeze; everything already frozen was thawed
readonly EX_THAW=14       # thaw failed for at least one filesystem (the watchdog stays armed)
readonly EX_PREREQ=15     # prerequisites missing (not root, no fsfreeze/findmnt, ...)
readonly EX_INTERNAL=16   # interrupted or internal error; anything this run froze was thawed

# --- input patterns (identical to the document's allowedPattern values) -------------------
readonly RE_COMMAND='^(freeze|thaw|dry-run)$'
readonly RE_RUN_ID='^[A-Za-z0-9_-]{1,80}$'
readonly RE_MAX_FREEZE_SECONDS='^([1-9][0-9]{0,2}|[12][0-9]{3}|3[0-5][0-9]{2}|3600)$'
readonly RE_MOUNTPOINT_LIST='^((/[.]?[A-Za-z0-9_-][A-Za-z0-9._-]*)+(,(/[.]?[A-Za-z0-9_-][A-Za-z0-9._-]*)+)*)?$'
readonly RE_DIRECTORY='^(/[.]?[A-Za-z0-9_-][A-Za-z0-9._-]*)+$'
readonly RE_HOOK_TIMEOUT_SECONDS='^[1-9][0-9]{0,2}$'
readonly MAX_LIST_LENGTH=4096

# --- fixed behaviour ----------------------------------------------------------------------
readonly FREEZABLE_FSTYPES=' ext2 ext3 ext4 xfs btrfs f2fs jfs nilfs2 reiserfs '
readonly -a DEFAULT_AGENT_DIRS=(/var/lib/amazon/ssm /var/log/amazon/ssm /var/snap/amazon-ssm-agent)
readonly FREEZE_LOCK_WAIT_SECONDS=5   # a freeze gives up (exit 11) when another command runs
readonly THAW_LOCK_WAIT_SECONDS=10    # a thaw waits this long before thawing without the lock
readonly WATCHDOG_START_SECONDS=5     # a freeze fails unless its watchdog reports in by then
readonly WATCHDOG_GIVE_UP_SECONDS=3600  # after its deadline, the watchdog retries this long
readonly STALE_GRACE_MS=1000          # a session past deadline + this, without watchdog, is stale
readonly PRE_SYNC_TIMEOUT_SECONDS=60
readonly KEEP_RUNS=20
readonly HOOK_KILL_AFTER_SECONDS=5
readonly HOOK_LOG_LINES=40

# --- run-time globals ---------------------------------------------------------------------
COMMAND='' RUN_ID='' MAX_FREEZE_SECONDS='' INCLUDE='' EXCLUDE=''
PRE_HOOK_DIR='' POST_HOOK_DIR='' HOOK_TIMEOUT='' STATE_DIR='' EXTRA_AGENT_DIRS=''
SELF='' SESSION_DIR='' TOKEN=''
NOW_MS='' NOW_ISO='' REPLY='' LAST_ERR=''
STATE_LOCKED=0 SESSION_ARMED=0 FINISHED=0 IS_WATCHDOG=0
ERR_LINE='' ERR_CMD=''
OUT_STATUS='failed' OUT_FROZEN_AT='' OUT_THAWED_AT='' OUT_STARTED_AT='' OUT_DURATION_MS=''
OUT_NOTE='' WD_DEADLINE='' WD_OUTCOME='none' WD_THAWED_AT=''
OUT_FILESYSTEMS=() OUT_SKIPPED=() OUT_HOOKS=() OUT_ERRORS=()
MT_MAJMIN=() MT_FSTYPE=() MT_SOURCE=() MT_TARGET=() MT_SOURCE_ESC=() MT_TARGET_ESC=()
CH_MAJMIN=() CH_FSTYPE=() CH_SOURCE_ESC=() CH_TARGET_ESC=()
HOOK_FILES=()
THAW_FAILURES=0 PRE_HOOKS_STARTED=0
SPLIT=()
declare -A PROTECTED=()

# ==========================================================================================
# Small helpers
# ==========================================================================================

log() { printf '%s freeze-thaw[%s]: %s\n' "$(date -u +%H:%M:%S.%3N)" "$$" "$*" >&2; }

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
  local ms=$1
  REPLY=$(date -u -d "@$((ms / 1000)).$(printf '%03d' $((ms % 1000)))" '+%Y-%m-%dT%H:%M:%S.%3NZ')
}

# Sleeps for a number of milliseconds in a way a trapped signal interrupts.
sleep_ms() {
  local ms=$1
  ((ms > 0)) || return 0
  sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))" &
  wait "$!" || true
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

fs_json() { # mountpoint device fstype [state]
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

kv_load() { # file prefix: sets ${prefix}${key} for every key in file
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

write_atomic() { # file content
  printf '%s\n' "$2" >"$1.tmp.$$"
  mv -f -- "$1.tmp.$$" "$1"
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
  MAX_FREEZE_SECONDS=${ACB_MAX_FREEZE_SECONDS:-30}
  INCLUDE=${ACB_INCLUDE_MOUNTPOINTS:-}
  EXCLUDE=${ACB_EXCLUDE_MOUNTPOINTS:-}
  PRE_HOOK_DIR=${ACB_PRE_FREEZE_HOOK_DIR:-/etc/app-consistent-backup/pre-freeze.d}
  POST_HOOK_DIR=${ACB_POST_THAW_HOOK_DIR:-/etc/app-consistent-backup/post-thaw.d}
  HOOK_TIMEOUT=${ACB_HOOK_TIMEOUT_SECONDS:-30}
  # Not document parameters: for tests and unusual hosts only.
  STATE_DIR=${ACB_STATE_DIR:-/run/app-consistent-backup}
  EXTRA_AGENT_DIRS=${ACB_AGENT_DIRS:-}
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
    add_error "MaxFreezeSeconds must be a whole number from 1 to 3600"; bad=1
  fi
  if ((${#INCLUDE} > MAX_LIST_LENGTH)) || ! [[ $INCLUDE =~ $RE_MOUNTPOINT_LIST ]]; then
    add_error "IncludeMountpoints must be a comma-separated list of absolute paths (letters, digits, . _ -; no . or .. components)"; bad=1
  fi
  if ((${#EXCLUDE} > MAX_LIST_LENGTH)) || ! [[ $EXCLUDE =~ $RE_MOUNTPOINT_LIST ]]; then
    add_error "ExcludeMountpoints must be a comma-separated list of absolute paths (letters, digits, . _ -; no . or .. components)"; bad=1
  fi
  if ! [[ $PRE_HOOK_DIR =~ $RE_DIRECTORY ]]; then
    add_error "PreFreezeHookDir must be an absolute path (letters, digits, . _ -; no . or .. components)"; bad=1
  fi
  if ! [[ $POST_HOOK_DIR =~ $RE_DIRECTORY ]]; then
    add_error "PostThawHookDir must be an absolute path (letters, digits, . _ -; no . or .. components)"; bad=1
  fi
  if ! [[ $HOOK_TIMEOUT =~ $RE_HOOK_TIMEOUT_SECONDS ]]; then
    add_error "HookTimeoutSeconds must be a whole number from 1 to 999"; bad=1
  fi
  if ! [[ $STATE_DIR =~ $RE_DIRECTORY ]]; then
    add_error "ACB_STATE_DIR must be an absolute path"; bad=1
  fi
  if [[ -n $EXTRA_AGENT_DIRS ]]; then
    split_list "$EXTRA_AGENT_DIRS" :
    for d in ${SPLIT[@]+"${SPLIT[@]}"}; do
      if ! [[ $d =~ $RE_DIRECTORY ]]; then
        add_error "ACB_AGENT_DIRS must be a colon-separated list of absolute paths"; bad=1; break
      fi
    done
  fi
  return "$bad"
}

check_prereqs() {
  local c
  local -a need=(findmnt date stat)
  if [[ $COMMAND != dry-run ]]; then
    need+=(fsfreeze flock setsid timeout sync sort find sed tr cp tail)
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
#   $STATE_DIR/runs/<RunId>/ session (kv), fs (what was frozen, in freeze order),
#                            watchdog.pid, fired (watchdog thawed without the lock),
#                            abort (a thaw asked a running freeze to stop), result (kv),
#                            hooks (results), *.log
# ==========================================================================================

prepare_state_dir() {
  if [[ -L $STATE_DIR ]]; then
    add_error "state directory $STATE_DIR is a symbolic link"
    return 1
  fi
  local d
  for d in "$STATE_DIR" "$STATE_DIR/runs" "$STATE_DIR/tmp" "$STATE_DIR/hooks"; do
    [[ -d $d ]] || mkdir -p -- "$d"
    chmod 0700 -- "$d"
  done
  if [[ ! -O $STATE_DIR ]]; then
    add_error "state directory $STATE_DIR is not owned by this user"
    return 1
  fi
  export TMPDIR="$STATE_DIR/tmp"
  exec 9>>"$STATE_DIR/lock"
}

lock_state() { # seconds
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

# Is the session of run $1 with token $2 still the active one?
session_is_active() {
  local tok=''
  read_active
  [[ $REPLY == "$1" ]] || return 1
  if [[ -f $STATE_DIR/runs/$1/token ]]; then read -r tok <"$STATE_DIR/runs/$1/token" || true; fi
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
}

# ==========================================================================================
# Mount table, protection and selection
# ==========================================================================================

read_mounts() {
  local line re='^MAJ[:_]MIN="([^"]*)" FSTYPE="([^"]*)" SOURCE="([^"]*)" TARGET="([^"]*)"$'
  local -a lines=()
  MT_MAJMIN=() MT_FSTYPE=() MT_SOURCE=() MT_TARGET=() MT_SOURCE_ESC=() MT_TARGET_ESC=()
  mapfile -t lines < <(findmnt -P -n -v -o MAJ:MIN,FSTYPE,SOURCE,TARGET 2>/dev/null)
  for line in ${lines[@]+"${lines[@]}"}; do
    [[ $line =~ $re ]] || continue
    MT_MAJMIN+=("${BASH_REMATCH[1]}")
    MT_FSTYPE+=("${BASH_REMATCH[2]}")
    # -P escapes quotes, backslashes and control characters as \xHH but leaves spaces;
    # escape those too, so that the *_ESC forms never contain whitespace.
    MT_SOURCE_ESC+=("${BASH_REMATCH[3]// /\\x20}")
    MT_TARGET_ESC+=("${BASH_REMATCH[4]// /\\x20}")
    unescape "${BASH_REMATCH[3]}"; MT_SOURCE+=("$REPLY")
    unescape "${BASH_REMATCH[4]}"; MT_TARGET+=("$REPLY")
  done
  ((${#MT_TARGET[@]} > 0))
}

# The filesystem (MAJ:MIN as in mountinfo, i.e. the superblock: the unit fsfreeze works on)
# holding path $1, or its nearest existing ancestor. Fails closed.
protect_path() {
  local p=$1 reason=$2 mm
  while [[ ! -e $p && $p != / ]]; do
    p=${p%/*}
    [[ -n $p ]] || p=/
  done
  mm=$(findmnt -r -n -v -f -o MAJ:MIN -T "$p" 2>/dev/null || true)
  mm=${mm//[!0-9:]/}
  if [[ -z $mm ]]; then
    LAST_ERR="cannot tell which filesystem holds $p"
    return 1
  fi
  if [[ -z ${PROTECTED[$mm]:-} ]]; then PROTECTED[$mm]="$reason ($p)"; fi
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
  if [[ -n $EXTRA_AGENT_DIRS ]]; then
    split_list "$EXTRA_AGENT_DIRS" :
    agent_dirs+=(${SPLIT[@]+"${SPLIT[@]}"})
  fi
  protect_path / "root filesystem" || return 1
  for d in "${agent_dirs[@]}"; do
    protect_path "$d" "holds the SSM agent's directory" || return 1
  done
  protect_path "$STATE_DIR" "holds the state directory" || return 1
  protect_path "$PWD" "holds the working directory" || return 1
  protect_path "${SELF%/*}" "holds this script" || return 1
}

is_freezable_auto() { # index: a freezable type on a block device
  local i=$1
  [[ $FREEZABLE_FSTYPES == *" ${MT_FSTYPE[i]} "* ]] || return 1
  [[ ${MT_SOURCE[i]} == /dev/* && -b ${MT_SOURCE[i]} ]]
}

add_skipped() { # index reason
  local i=$1
  fs_json "${MT_TARGET[i]}" "${MT_SOURCE[i]}" "${MT_FSTYPE[i]}"
  local obj=${REPLY%\}}
  json_string "$2"
  OUT_SKIPPED+=("$obj,\"reason\":$REPLY}")
}

# Chooses what to freeze: CH_* arrays in freeze order (deepest mountpoint first), the
# skipped list in OUT_SKIPPED. Returns 10 on a bad include list, 16 on an internal problem.
select_filesystems() {
  local i j mm p depth rc=0
  local -a incl=() excl=() order=()
  local -A want_mp=() excl_mp=() excl_dev=() chosen=() seen_skip=()
  if ! read_mounts; then add_error "cannot read the mount table (findmnt)"; return "$EX_INTERNAL"; fi
  if ! compute_protected; then add_error "$LAST_ERR"; return "$EX_INTERNAL"; fi
  split_list "$INCLUDE" ,
  incl=(${SPLIT[@]+"${SPLIT[@]}"})
  split_list "$EXCLUDE" ,
  excl=(${SPLIT[@]+"${SPLIT[@]}"})
  for p in ${incl[@]+"${incl[@]}"}; do want_mp[$p]=1; done
  for p in ${excl[@]+"${excl[@]}"}; do excl_mp[$p]=1; done

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
    if ((${#incl[@]} > 0)); then
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
    if [[ -n ${PROTECTED[$mm]:-} ]]; then
      if [[ -n ${want_mp[${MT_TARGET[i]}]:-} ]]; then
        add_error "refusing to freeze ${MT_TARGET[i]}: it is the ${PROTECTED[$mm]}"
        rc=$EX_INVALID
      fi
      if [[ -z ${seen_skip[$mm]:-} ]]; then
        seen_skip[$mm]=1
        add_skipped "$i" "protected: ${PROTECTED[$mm]}"
      fi
      continue
    fi
    if [[ -n ${excl_dev[$mm]:-} ]]; then
      if [[ -z ${seen_skip[$mm]:-} ]]; then
        seen_skip[$mm]=1
        add_skipped "$i" "in ExcludeMountpoints"
      fi
      continue
    fi
    if [[ -n ${chosen[$mm]:-} ]]; then
      # One freeze per filesystem: keep the shortest mountpoint, skip the others.
      j=${chosen[$mm]}
      if ((${#MT_TARGET[i]} < ${#MT_TARGET[j]})); then
        chosen[$mm]=$i
        add_skipped "$j" "same filesystem as ${MT_TARGET[i]}"
      else
        add_skipped "$i" "same filesystem as ${MT_TARGET[j]}"
      fi
      continue
    fi
    chosen[$mm]=$i
  done
  ((rc == 0)) || return "$rc"

  # Deepest mountpoint first: every fsfreeze call then reaches its mountpoint through
  # filesystems that are not frozen yet, and the thaw (reverse order) likewise.
  CH_MAJMIN=() CH_FSTYPE=() CH_SOURCE_ESC=() CH_TARGET_ESC=()
  ((${#chosen[@]} > 0)) || return 0
  for mm in "${!chosen[@]}"; do
    i=${chosen[$mm]}
    p=${MT_TARGET[i]//[!\/]/}
    depth=${#p}
    order+=("$depth ${MT_TARGET_ESC[i]} $i")
  done
  if ((${#order[@]} > 0)); then
    while read -r depth p i; do
      CH_MAJMIN+=("${MT_MAJMIN[i]}")
      CH_FSTYPE+=("${MT_FSTYPE[i]}")
      CH_SOURCE_ESC+=("${MT_SOURCE_ESC[i]}")
      CH_TARGET_ESC+=("${MT_TARGET_ESC[i]}")
      fs_json "${MT_TARGET[i]}" "${MT_SOURCE[i]}" "${MT_FSTYPE[i]}"
      OUT_FILESYSTEMS+=("$REPLY")
    done < <(printf '%s\n' "${order[@]}" | sort -k1,1nr -k2,2)
  fi
  return 0
}

# ==========================================================================================
# Hooks
# ==========================================================================================

# A hook directory or file is trusted when its owner is root (or the user running a dry
# run) and neither group nor others may write it.
check_trusted() {
  local owner mode
  read -r owner mode < <(stat -L -c '%u %a' -- "$1" 2>/dev/null) || true
  if [[ -z ${owner:-} || -z ${mode:-} ]]; then LAST_ERR="cannot stat $1"; return 1; fi
  if ((owner != 0 && owner != EUID)); then LAST_ERR="$1 is not owned by root"; return 1; fi
  if (((8#$mode & 8#022) != 0)); then LAST_ERR="$1 is writable by group or others"; return 1; fi
}

# Executables in directory $1, in C-locale order, into HOOK_FILES. Names must match
# [A-Za-z0-9_][A-Za-z0-9_.-]*; backups and packaging leftovers are ignored.
list_hooks() {
  local dir=$1 f name
  HOOK_FILES=()
  [[ -e $dir ]] || return 0
  if [[ ! -d $dir ]]; then LAST_ERR="$dir is not a directory"; return 1; fi
  check_trusted "$dir" || return 1
  for f in "$dir"/*; do
    [[ -e $f ]] || continue
    name=${f##*/}
    [[ $name =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]*$ ]] || continue
    case $name in
      *.disabled | *.sample | *.dpkg-* | *.rpmnew | *.rpmsave | *.rpmorig | *.swp) continue ;;
    esac
    [[ -f $f && -x $f ]] || continue
    check_trusted "$f" || return 1
    HOOK_FILES+=("$f")
  done
}

hook_json() { # phase name exit_code duration_ms timed_out
  local ph nm
  json_string "$1"; ph=$REPLY
  json_string "$2"; nm=$REPLY
  REPLY="{\"phase\":$ph,\"name\":$nm,\"exit_code\":$3,\"duration_ms\":$4,\"timed_out\":$5}"
}

# Runs the hooks of one phase: pre-freeze in name order, stopping at the first failure;
# post-thaw in reverse name order, all of them. Each under `timeout`, with its output in
# a log file (never in our standard output, which the state machine parses).
# Args: phase dir thawed_by [session dir, default SESSION_DIR: where results and logs go].
# Returns 0 when every hook succeeded.
run_hooks() {
  local phase=$1 dir=$2 thawed_by=${3:-} record=${4:-$SESSION_DIR} f name rc start t_out
  local failed=0 i n wait_s filesystems='' log line
  local -a files=()
  if ! list_hooks "$dir"; then
    add_error "$phase hooks not run: $LAST_ERR"
    return 1
  fi
  ((${#HOOK_FILES[@]} > 0)) || return 0
  if [[ $phase == post-thaw ]]; then
    for ((i = ${#HOOK_FILES[@]} - 1; i >= 0; i--)); do files+=("${HOOK_FILES[i]}"); done
  else
    files=("${HOOK_FILES[@]}")
  fi
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
  n=${#files[@]}
  wait_s=$((n * (HOOK_TIMEOUT + HOOK_KILL_AFTER_SECONDS + 1) + 5))
  exec 8>>"$STATE_DIR/hooks.lock"
  if ! flock -w "$wait_s" 8; then
    if [[ $phase == pre-freeze ]]; then
      exec 8>&-
      add_error "pre-freeze hooks not run: another set of hooks is still running"
      return 1
    fi
    log "post-thaw hooks: another set of hooks is still running; running ours anyway"
  fi
  for f in "${files[@]}"; do
    name=${f##*/}
    log="${record:-$STATE_DIR/hooks}/hook-$phase-$name.log"
    now; start=$NOW_MS
    rc=0
    (
      cd / &&
        exec env ACB_PHASE="$phase" ACB_RUN_ID="$RUN_ID" ACB_MAX_FREEZE_SECONDS="$MAX_FREEZE_SECONDS" \
          ACB_HOOK_TIMEOUT_SECONDS="$HOOK_TIMEOUT" ACB_HOOK_STATE_DIR="$STATE_DIR/hooks" \
          ACB_FILESYSTEMS="$filesystems" ACB_THAWED_BY="$thawed_by" \
          timeout -k "$HOOK_KILL_AFTER_SECONDS" "$HOOK_TIMEOUT" "$f" "$phase"
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
  return "$failed"
}

# ==========================================================================================
# Freeze, thaw, watchdog
# ==========================================================================================

# The mountpoint currently holding filesystem $1 (MAJ:MIN), preferring escaped path $2, in
# REPLY ('' when it is not mounted any more). Uses the MT_* arrays (read_mounts).
current_mountpoint() {
  local mm=$1 esc=$2 i
  REPLY=''
  for ((i = 0; i < ${#MT_TARGET_ESC[@]}; i++)); do
    if [[ ${MT_MAJMIN[i]} == "$mm" && ${MT_TARGET_ESC[i]} == "$esc" ]]; then
      REPLY=${MT_TARGET[i]}; return 0
    fi
  done
  for ((i = 0; i < ${#MT_TARGET_ESC[@]}; i++)); do
    if [[ ${MT_MAJMIN[i]} == "$mm" ]]; then REPLY=${MT_TARGET[i]}; return 0; fi
  done
}

# Thaws everything in session directory $1's fs list, in reverse freeze order. "Not frozen"
# (EINVAL) counts as done. With $2 = run:token, stops as soon as that session is no longer
# the active one (the watchdog thawing without the lock). Sets THAW_FAILURES and, unless
# $3 = quiet, OUT_FILESYSTEMS with each filesystem's state.
thaw_pass() {
  local dir=$1 guard=${2:-} quiet=${3:-} i mm fst src esc mp out state table=1
  local -a lines=()
  THAW_FAILURES=0
  [[ -f $dir/fs ]] || return 0
  mapfile -t lines <"$dir/fs"
  ((${#lines[@]} > 0)) || return 0
  if ! read_mounts; then
    table=0
    log "thaw: cannot read the mount table; thawing the recorded mountpoints"
  fi
  [[ -n $quiet ]] || OUT_FILESYSTEMS=()
  for ((i = ${#lines[@]} - 1; i >= 0; i--)); do
    [[ ${lines[i]} =~ ^([0-9]+:[0-9]+)\ ([^ ]+)\ ([^ ]+)\ ([^ ]+)$ ]] || continue
    mm=${BASH_REMATCH[1]} fst=${BASH_REMATCH[2]} src=${BASH_REMATCH[3]} esc=${BASH_REMATCH[4]}
    if [[ -n $guard ]] && ! session_is_active "${guard%%:*}" "${guard#*:}"; then
      return 0
    fi
    if ((table)); then
      current_mountpoint "$mm" "$esc"; mp=$REPLY
    else
      unescape "$esc"; mp=$REPLY
    fi
    if [[ -z $mp ]]; then
      state='not-mounted'
      unescape "$esc"; mp=$REPLY
      log "thaw: $mp ($mm) is not mounted any more; nothing to thaw"
    elif out=$(fsfreeze -u -- "$mp" 2>&1); then
      state='thawed'
      log "thawed $mp"
    elif [[ $out == *"Invalid argument"* ]]; then
      state='not-frozen'
    else
      state='thaw-failed'
      THAW_FAILURES=$((THAW_FAILURES + 1))
      add_error "thaw of $mp failed: ${out##*: }"
    fi
    if [[ -z $quiet ]]; then
      unescape "$src"
      fs_json "$mp" "$REPLY" "$fst" "$state"
      OUT_FILESYSTEMS=("$REPLY" ${OUT_FILESYSTEMS[@]+"${OUT_FILESYSTEMS[@]}"})
    fi
  done
}

watchdog_pid_alive() { # session dir, token
  local pid='' cmdline=''
  [[ -f $1/watchdog.pid ]] || return 1
  read -r pid <"$1/watchdog.pid" || return 1
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [[ -r /proc/$pid/cmdline ]] || return 1
  cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)
  [[ $cmdline == *" $2 "* || $cmdline == *" $2" ]] || return 1
  REPLY=$pid
}

cancel_watchdog() { # session dir, token
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
report_session() { # dir
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

# Undoes the current run's freeze command: thaws and closes its session (if armed), records
# a never-armed session as rolled back, and runs the post-thaw hooks if pre-freeze ones ran.
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
  if ((PRE_HOOKS_STARTED)); then
    PRE_HOOKS_STARTED=0
    run_hooks post-thaw "$POST_HOOK_DIR" rollback || true
  fi
}

# A session whose freeze command and watchdog are both gone, past its deadline, would stay
# frozen for ever: thaw it. Called with the state lock held.
recover_stale() {
  local run dir S_deadline_ms='' tok='' start_ms start_iso
  read_active; run=$REPLY
  [[ -n $run ]] || return 0
  dir=$STATE_DIR/runs/$run
  if [[ ! $run =~ $RE_RUN_ID || ! -d $dir ]]; then
    log "active names an unknown run ($run); clearing it"
    rm -f -- "$STATE_DIR/active"
    return 0
  fi
  local S_post_thaw_hook_dir='' S_hook_timeout_seconds='' own_timeout=$HOOK_TIMEOUT own_run=$RUN_ID
  kv_load "$dir/session" S_ || true
  read -r tok <"$dir/token" 2>/dev/null || true
  watchdog_pid_alive "$dir" "$tok" && return 0
  now
  [[ -n $S_deadline_ms ]] && ((NOW_MS <= S_deadline_ms + STALE_GRACE_MS)) && return 0
  log "run $run is frozen past its deadline and its watchdog is gone: thawing it"
  start_ms=$NOW_MS; start_iso=$NOW_ISO
  thaw_pass "$dir" '' quiet
  now
  if ((THAW_FAILURES == 0)); then
    close_session "$dir" "$run" recovery "$start_ms" "$start_iso" "$NOW_MS"
    OUT_NOTE="recovered the stale freeze of run $run"
    if [[ $S_post_thaw_hook_dir =~ $RE_DIRECTORY && $S_hook_timeout_seconds =~ $RE_HOOK_TIMEOUT_SECONDS ]]; then
      HOOK_TIMEOUT=$S_hook_timeout_seconds RUN_ID=$run
      run_hooks post-thaw "$S_post_thaw_hook_dir" recovery "$dir" || true
      HOOK_TIMEOUT=$own_timeout RUN_ID=$own_run
    fi
  fi
}

spawn_watchdog() {
  local copy=$SESSION_DIR/watchdog.sh waited=0
  cp -- "$SELF" "$copy"
  chmod 0700 -- "$copy"
  (
    cd / || exit 1
    exec setsid bash "$copy" --watchdog "$RUN_ID" "$TOKEN" "$STATE_DIR"
  ) </dev/null >>"$SESSION_DIR/watchdog.log" 2>&1 8>&- 9>&- &
  while ((waited < WATCHDOG_START_SECONDS * 100)); do
    if watchdog_pid_alive "$SESSION_DIR" "$TOKEN"; then return 0; fi
    sleep 0.01
    waited=$((waited + 1))
  done
  return 1
}

cmd_freeze() {
  local i mm esc mp out rc src active
  prepare_state_dir || finish "$EX_PREREQ"
  if ! lock_state "$FREEZE_LOCK_WAIT_SECONDS"; then
    add_error "another freeze or thaw is running on this instance"
    finish "$EX_BUSY"
  fi
  recover_stale
  read_active; active=$REPLY
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
  OUT_SKIPPED=()
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
  kv_set "$SESSION_DIR/session" post_thaw_hook_dir "$POST_HOOK_DIR"
  kv_set "$SESSION_DIR/session" hook_timeout_seconds "$HOOK_TIMEOUT"
  : >"$SESSION_DIR/fs"
  prune_runs

  PRE_HOOKS_STARTED=1
  if ! run_hooks pre-freeze "$PRE_HOOK_DIR" ''; then
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
  kv_set "$SESSION_DIR/session" deadline_ms "$((NOW_MS + MAX_FREEZE_SECONDS * 1000))"
  ms_to_iso "$((NOW_MS + MAX_FREEZE_SECONDS * 1000))"
  kv_set "$SESSION_DIR/session" deadline "$REPLY"
  WD_DEADLINE=$REPLY
  write_atomic "$STATE_DIR/active" "$RUN_ID"
  SESSION_ARMED=1
  if ! spawn_watchdog; then
    add_error "the auto-thaw watchdog did not start; nothing frozen"
    rm -f -- "$STATE_DIR/active"
    SESSION_ARMED=0
    rollback
    finish "$EX_INTERNAL"
  fi
  WD_OUTCOME=armed

  now
  OUT_STARTED_AT=$NOW_ISO
  kv_set "$SESSION_DIR/session" started_ms "$NOW_MS"
  kv_set "$SESSION_DIR/session" started_at "$NOW_ISO"
  read_mounts || true
  for ((i = 0; i < ${#CH_MAJMIN[@]}; i++)); do
    mm=${CH_MAJMIN[i]} esc=${CH_TARGET_ESC[i]}
    unescape "$esc"; mp=$REPLY
    # Hard guard, re-checked at the last moment: never `/` nor a protected filesystem, and
    # only if the mountpoint still holds the filesystem that was chosen.
    current_mountpoint "$mm" "$esc"
    if [[ $mp == / || -n ${PROTECTED[$mm]:-} || $REPLY != "$mp" ]]; then
      add_error "refusing to freeze $mp: protected or no longer the chosen filesystem"
      rollback
      finish "$EX_FREEZE"
    fi
    printf '%s %s %s %s\n' "$mm" "${CH_FSTYPE[i]}" "${CH_SOURCE_ESC[i]}" "$esc" >>"$SESSION_DIR/fs"
    if ! out=$(fsfreeze -f -- "$mp" 2>&1); then
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
  SESSION_ARMED=0 # from here on the watchdog and the thaw own the session
  unlock_state
  OUT_STATUS=frozen
  finish "$EX_OK"
}

# The filesystems listed in a session, without touching them, into OUT_FILESYSTEMS.
list_session_filesystems() {
  local dir=$1 line
  OUT_FILESYSTEMS=()
  [[ -f $dir/fs ]] || return 0
  while IFS= read -r line; do
    [[ $line =~ ^([0-9]+:[0-9]+)\ ([^ ]+)\ ([^ ]+)\ ([^ ]+)$ ]] || continue
    local fst=${BASH_REMATCH[2]} src=${BASH_REMATCH[3]} esc=${BASH_REMATCH[4]} mp
    unescape "$esc"; mp=$REPLY
    unescape "$src"
    fs_json "$mp" "$REPLY" "$fst"
    OUT_FILESYSTEMS+=("$REPLY")
  done <"$dir/fs"
}

cmd_thaw() {
  local active dir start_ms start_iso f_ms='' f_iso='' tok='' line
  local R_thawed_by=''
  prepare_state_dir || finish "$EX_PREREQ"
  dir=$STATE_DIR/runs/$RUN_ID
  SESSION_DIR=$dir
  if ! lock_state "$THAW_LOCK_WAIT_SECONDS"; then
    # A freeze command is still running (hung in a hook or a freeze). Thaw what this run
    # froze without the lock and ask that command to stop; the watchdog stays armed.
    if [[ -d $dir && ! -f $dir/result ]]; then
      : >"$dir/abort"
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
  if [[ $active == "$RUN_ID" ]]; then
    read -r tok <"$dir/token" 2>/dev/null || true
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
    run_hooks post-thaw "$POST_HOOK_DIR" thaw || true
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

  # Nothing of this run was frozen.
  OUT_STATUS=thawed
  if [[ -n $active ]]; then
    OUT_NOTE="nothing of this run is frozen; the freeze of run $active was left alone"
    unlock_state
  else
    OUT_NOTE="nothing of this run is frozen"
    unlock_state
    # No freeze is active on the instance: post-thaw hooks are safe, and release anything
    # a lost freeze may have left (they must be idempotent).
    run_hooks post-thaw "$POST_HOOK_DIR" thaw || true
  fi
  finish "$EX_OK"
}

cmd_dry_run() {
  local rc=0 f
  select_filesystems || rc=$?
  ((rc == 0)) || finish "$rc"
  OUT_STATUS=dry-run
  if list_hooks "$PRE_HOOK_DIR"; then
    for f in ${HOOK_FILES[@]+"${HOOK_FILES[@]}"}; do
      hook_json pre-freeze "${f##*/}" null null false; OUT_HOOKS+=("$REPLY")
    done
  else
    OUT_NOTE="pre-freeze hooks would not run: $LAST_ERR"
  fi
  if list_hooks "$POST_HOOK_DIR"; then
    for f in ${HOOK_FILES[@]+"${HOOK_FILES[@]}"}; do
      hook_json post-thaw "${f##*/}" null null false; OUT_HOOKS+=("$REPLY")
    done
  fi
  finish "$EX_OK"
}

# --- the watchdog -------------------------------------------------------------------------

# shellcheck disable=SC2317 # invoked by trap
watchdog_stop() {
  log "watchdog: cancelled"
  exit 0
}

# Runs detached (setsid, cwd /, output to the session's watchdog.log). Thaws the session at
# its deadline unless it was closed first; keeps thawing every second while a freeze command
# still holds the lock, so a freeze that completes late is undone too.
watchdog_main() {
  set +eu
  local run=$1 token=$2 deadline_ms give_up_ms got_lock start_ms start_iso
  local S_deadline_ms='' S_post_thaw_hook_dir='' S_hook_timeout_seconds='' S_max_freeze_seconds=''
  IS_WATCHDOG=1
  STATE_DIR=$3
  [[ $run =~ $RE_RUN_ID && $STATE_DIR =~ $RE_DIRECTORY ]] || exit 2
  RUN_ID=$run COMMAND=watchdog TOKEN=$token
  SESSION_DIR=$STATE_DIR/runs/$run
  cd / || exit 2
  export TMPDIR="$STATE_DIR/tmp"
  trap watchdog_stop TERM INT HUP
  kv_load "$SESSION_DIR/session" S_ || exit 2
  [[ $S_deadline_ms =~ ^[0-9]+$ ]] || exit 2
  deadline_ms=$S_deadline_ms
  POST_HOOK_DIR=$S_post_thaw_hook_dir HOOK_TIMEOUT=$S_hook_timeout_seconds
  MAX_FREEZE_SECONDS=$S_max_freeze_seconds
  write_atomic "$SESSION_DIR/watchdog.pid" "$$"
  log "watchdog: armed for run $run until ${deadline_ms}"
  exec 9>>"$STATE_DIR/lock"
  now
  sleep_ms "$((deadline_ms - NOW_MS))"
  give_up_ms=$((deadline_ms + WATCHDOG_GIVE_UP_SECONDS * 1000))
  while :; do
    session_is_active "$run" "$token" || { log "watchdog: session closed; nothing to do"; exit 0; }
    got_lock=0
    flock -w 0.2 9 && got_lock=1
    if ((got_lock)) && ! session_is_active "$run" "$token"; then
      log "watchdog: session closed; nothing to do"
      exit 0
    fi
    now
    if [[ ! -e $SESSION_DIR/fired ]]; then
      printf '%s %s\n' "$NOW_MS" "$NOW_ISO" >"$SESSION_DIR/fired"
      log "watchdog: deadline passed, thawing run $run (late by $((NOW_MS - deadline_ms)) ms)"
    fi
    start_ms=$NOW_MS start_iso=$NOW_ISO
    if ((got_lock)); then
      thaw_pass "$SESSION_DIR" '' quiet
      if ((THAW_FAILURES == 0)); then
        now
        read -r start_ms start_iso <"$SESSION_DIR/fired"
        close_session "$SESSION_DIR" "$run" watchdog "$start_ms" "$start_iso" "$NOW_MS"
        flock -u 9
        log "watchdog: thawed run $run"
        run_hooks post-thaw "$POST_HOOK_DIR" watchdog
        exit 0
      fi
      flock -u 9
    else
      thaw_pass "$SESSION_DIR" "$run:$token" quiet
    fi
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

main "$@"
