#!/usr/bin/env bash
# Checks each Terraform directory given: `terraform init`, then `terraform test` (mock
# provider) of each test file where the directory holds tests (DIR/tests/*.tftest.hcl or
# DIR/*.tftest.hcl), `terraform validate` where it holds none. `terraform test` validates the
# configuration before its first run and fails on what validate reports, so a validate beside
# it would only load the provider's schema again (about 5 s of CPU a directory). With
# --validate-only, every directory is validated and nothing tested.
#
# Every step runs side by side, TF_JOBS at a time (default 2): first the inits, then the test
# files (the longest first: each run block starts the provider plugin, so a file's run blocks
# tell its length) and the validations. Each one's output is printed whole when it ends: one
# line when it passed, everything when it failed. Fails if any fails.
#
# Provider installation: when the CLI configuration (TF_CLI_CONFIG_FILE) installs
# hashicorp/aws from a filesystem mirror, init links the provider from the mirror and the
# plugin cache is not used, so the inits run side by side (Terraform does not promise that
# concurrent inits into one cache are safe). Without a mirror, providers come from the registry
# through TF_PLUGIN_CACHE_DIR, and the inits run one after another.
#
# usage: terraform-test-all.sh [--validate-only] DIR...
set -euo pipefail

mode=all
if [[ ${1:-} == --validate-only ]]; then
  mode=validate
  shift
fi
(($#)) || {
  echo "usage: terraform-test-all.sh [--validate-only] DIR..." >&2
  exit 2
}

jobs=${TF_JOBS:-2}
init_jobs=${jobs}
if [[ -f ${TF_CLI_CONFIG_FILE:-} ]] && grep -q filesystem_mirror "${TF_CLI_CONFIG_FILE}"; then
  unset TF_PLUGIN_CACHE_DIR
else
  init_jobs=1
fi

logs=$(mktemp -d)
trap 'rm -rf "${logs}"' EXIT

# One step ("init DIR", "validate DIR" or "test DIR FILE"); everything it prints goes to its
# log, shown whole on failure (under a lock: two steps ending at once do not interleave).
step() {
  local what=$1 dir=$2 file=${3:-} log report rc=0
  log=$(mktemp "${logs}/step.XXXXXX")
  report="${log}.report"
  case ${what} in
    init) terraform -chdir="${dir}" init -backend=false -input=false -no-color >"${log}" 2>&1 || rc=$? ;;
    validate) terraform -chdir="${dir}" validate -no-color >"${log}" 2>&1 || rc=$? ;;
    test) terraform -chdir="${dir}" test -no-color -filter="${file}" >"${log}" 2>&1 || rc=$? ;;
  esac
  if ((rc == 0)); then
    [[ ${what} == init ]] || printf 'terraform %s %s: %s\n' "${what}" "${dir%/}${file:+/${file}}" "$(awk 'NF { last = $0 } END { print last }' "${log}")" >"${report}"
  else
    {
      printf 'terraform %s %s FAILED (exit %s):\n' "${what}" "${dir%/}${file:+/${file}}" "${rc}"
      cat "${log}"
    } >"${report}"
  fi
  [[ ! -f ${report} ]] || flock "${logs}/.print" cat "${report}"
  return $((rc ? 1 : 0))
}
export -f step
export logs

# Steps, one a line, "<run blocks> test DIR FILE" or "0 validate DIR", run longest first.
plan=()
for dir in "$@"; do
  files=()
  if [[ ${mode} == all ]]; then
    for f in "${dir%/}"/tests/*.tftest.hcl "${dir%/}"/*.tftest.hcl; do
      [[ -f ${f} ]] && files+=("${f#"${dir%/}"/}")
    done
  fi
  if ((${#files[@]} == 0)); then
    plan+=("0 validate ${dir}")
  else
    for f in "${files[@]}"; do
      plan+=("$(grep -c '^run ' "${dir%/}/${f}" || true) test ${dir} ${f}")
    done
  fi
done

# The single quotes are meant: bash -c expands its arguments, not this shell.
# shellcheck disable=SC2016
printf '%s\n' "$@" | xargs -P "${init_jobs}" -I{} bash -c 'step init "$1"' _ {}
# shellcheck disable=SC2016
printf '%s\n' "${plan[@]}" | sort -k1,1nr | cut -d' ' -f2- |
  xargs -P "${jobs}" -L1 bash -c 'step "$@"' _
