#!/usr/bin/env bash
# Runs `terraform test` in each directory given, two at a time (the suites are
# independent and mostly wait on provider start-up), and prints each one's
# output whole once it ends. Fails if any fails.
#
# usage: terraform-test-all.sh DIR...
set -euo pipefail

logs=$(mktemp -d)
trap 'rm -rf "${logs}"' EXIT

run_one() {
  local dir=$1 log
  log="$2/$(printf '%s' "${dir}" | tr '/.' '__').log"
  if terraform -chdir="${dir}" test -no-color >"${log}" 2>&1; then
    printf 'terraform test %s: %s\n' "${dir}" "$(tail -n 1 "${log}")"
  else
    printf 'terraform test %s FAILED:\n' "${dir}"
    cat "${log}"
    return 1
  fi
}
export -f run_one

# The single quotes are meant: bash -c expands $1 and $2, not this shell.
# shellcheck disable=SC2016
printf '%s\n' "$@" | xargs -P "${TF_TEST_JOBS:-2}" -I{} bash -c 'run_one "$1" "$2"' _ {} "${logs}"
