#!/usr/bin/env bash
# Sample hook for MySQL and MariaDB: hold FLUSH TABLES WITH READ LOCK across the freeze.
#
# Install the same file as a pre-freeze and a post-thaw hook (the phase comes as $1):
#   install -o root -m 0755 mysql-flush-lock.sh /etc/app-consistent-backup/pre-freeze.d/10-mysql
#   ln -s ../pre-freeze.d/10-mysql /etc/app-consistent-backup/post-thaw.d/10-mysql
#
# Why a holder process: the global read lock lives as long as the session that took it, so
# `mysql -e 'FLUSH TABLES WITH READ LOCK'` releases it the moment that client exits, before
# anything is frozen. The pre-freeze phase therefore starts a detached holder that keeps one
# client session open (its standard input is a FIFO that the holder keeps open), waits until
# the server confirms the lock, and exits 0; the post-thaw phase asks the holder to run
# UNLOCK TABLES and close the session. If no post-thaw comes, the holder unlocks by itself
# after ACB_MAX_FREEZE_SECONDS plus a margin. The post-thaw phase is idempotent.
#
# Everything the hook writes lives in ACB_HOOK_STATE_DIR (under /run by default), which the
# freeze never touches.
#
# Configuration (environment, all optional):
#   ACB_MYSQL_DEFAULTS_FILE      client options file; default /etc/app-consistent-backup/mysql.cnf
#                                when it exists (a [client] section: user, password, socket;
#                                root-owned, mode 0600)
#   ACB_MYSQL_LOCK_WAIT_SECONDS  how long FLUSH TABLES may wait for running statements (10)
#   ACB_MYSQL_HOLD_MARGIN_SECONDS  extra seconds the holder waits beyond the freeze maximum (30)
#   ACB_MYSQL_CLIENT             the client binary (mysql)
set -euo pipefail

phase=${1:-${ACB_PHASE:-}}
state_dir=${ACB_HOOK_STATE_DIR:-/run/app-consistent-backup/hooks}/mysql
defaults_file=${ACB_MYSQL_DEFAULTS_FILE:-/etc/app-consistent-backup/mysql.cnf}
lock_wait=${ACB_MYSQL_LOCK_WAIT_SECONDS:-10}
max_hold=$((${ACB_MAX_FREEZE_SECONDS:-30} + ${ACB_MYSQL_HOLD_MARGIN_SECONDS:-30}))
client=${ACB_MYSQL_CLIENT:-mysql}

log() { printf 'mysql-flush-lock: %s\n' "$*" >&2; }

client_args() {
  CLIENT_ARGS=()
  if [[ -f $defaults_file ]]; then CLIENT_ARGS+=("--defaults-extra-file=$defaults_file"); fi
  CLIENT_ARGS+=(--batch --skip-column-names --unbuffered)
}

holder_alive() {
  local pid='' cmdline
  [[ -f $state_dir/holder.pid ]] || return 1
  read -r pid <"$state_dir/holder.pid" || return 1
  [[ $pid =~ ^[0-9]+$ && -r /proc/$pid/cmdline ]] || return 1
  cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ $cmdline == *--acb-mysql-holder* ]] || return 1
  HOLDER_PID=$pid
}

# Detached: owns the client session that holds the lock.
holder() {
  local client_pid waited=0
  trap '' PIPE # a client that died must not kill the holder before it cleans up
  printf '%s\n' "$$" >"$state_dir/holder.pid"
  client_args
  "$client" "${CLIENT_ARGS[@]}" <"$state_dir/session.in" >"$state_dir/session.out" 2>&1 &
  client_pid=$!
  exec 3>"$state_dir/session.in" # keeps the session's input, and so the lock, open
  printf 'SET SESSION lock_wait_timeout = %d;\nFLUSH TABLES WITH READ LOCK;\nSELECT "ACB_LOCKED";\n' \
    "$lock_wait" >&3
  while ((waited < max_hold * 10)) && [[ ! -e $state_dir/release ]] && kill -0 "$client_pid" 2>/dev/null; do
    sleep 0.1
    waited=$((waited + 1))
  done
  if [[ ! -e $state_dir/release ]]; then log "no post-thaw after ${max_hold}s: unlocking"; fi
  printf 'UNLOCK TABLES;\nSELECT "ACB_UNLOCKED";\n' >&3 2>/dev/null || true
  exec 3>&- # end of input: the client exits, the session ends
  wait "$client_pid" || true
  rm -f "$state_dir/holder.pid"
}

pre_freeze() {
  local waited=0
  mkdir -p "$state_dir"
  chmod 0700 "$state_dir"
  if holder_alive; then
    log "a holder from an earlier freeze is still running; releasing it first"
    post_thaw
  fi
  rm -f "$state_dir/release" "$state_dir/session.out" "$state_dir/session.in"
  mkfifo -m 0600 "$state_dir/session.in"
  setsid bash "$0" --acb-mysql-holder </dev/null >>"$state_dir/holder.log" 2>&1 &
  # Bounded wait for the server's answer: locked, or the client gave up.
  while ((waited < (lock_wait + 5) * 10)); do
    if grep -qx 'ACB_LOCKED' "$state_dir/session.out" 2>/dev/null; then
      log "FLUSH TABLES WITH READ LOCK held"
      return 0
    fi
    if ((waited > 5)) && ! holder_alive; then break; fi
    sleep 0.1
    waited=$((waited + 1))
  done
  log "could not take the lock: $(tail -n 5 "$state_dir/session.out" 2>/dev/null | tr '\n' ' ')"
  : >"$state_dir/release"
  return 1
}

post_thaw() {
  local waited=0
  holder_alive || return 0 # nothing held: nothing to do
  : >"$state_dir/release"
  while holder_alive && ((waited < 100)); do
    sleep 0.1
    waited=$((waited + 1))
  done
  if holder_alive; then
    log "the holder did not exit; killing it (the server drops the lock with the session)"
    kill -TERM "$HOLDER_PID" 2>/dev/null || true
    return 1
  fi
  log "lock released"
}

case $phase in
  --acb-mysql-holder) holder ;;
  pre-freeze) pre_freeze ;;
  post-thaw) post_thaw ;;
  *)
    log "unknown phase '$phase' (expected pre-freeze or post-thaw)"
    exit 2
    ;;
esac
