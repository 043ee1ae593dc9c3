#!/usr/bin/env bash
# Checks each Terraform directory given: `terraform init`, then one `terraform test` (mock
# provider) of all its test files where the directory holds tests (DIR/tests/*.tftest.hcl or
# DIR/*.tftest.hcl), `terraform validate` where it holds none. `terraform test` validates the
# configuration before its first run and fails on what validate reports, so a validate beside
# it would only load the provider's schema again (about 1 s of CPU a directory). With
# --validate-only, every directory is validated and nothing tested.
#
# Every step runs side by side, TF_JOBS at a time (default 2): first the inits, then the tests
# (the directories with the most run blocks first, a rough measure of their length) and the
# validations. Each one's output is printed whole when it ends: one line when it passed,
# everything when it failed. Fails if any fails.
#
# One `terraform test` a directory, not one a file: each invocation loads the provider's schema
# and validates the configuration before its first run, about 1 s of CPU, so the root's 8 files
# cost 22 s of CPU in one invocation and 30 s file by file. Files in parallel would end this
# stage sooner on an idle machine, but `make test` runs it beside pytest and the other stages on
# 2 cores, where the CPU spent is what counts.
#
# Provider installation: when the CLI configuration (TF_CLI_CONFIG_FILE) installs
# hashicorp/aws from a filesystem mirror, init links the provider from the mirror and the
# plugin cache is not used, so the inits run side by side (Terraform does not promise that
# concurrent inits into one cache are safe). Without a mirror, providers come from the registry
# through TF_PLUGIN_CACHE_DIR, and the inits run one after another.
#
# One provider process for every step: after the inits, the hashicorp/aws provider they
# installed is started once in its debug mode and every test and validation attaches to it
# (TF_REATTACH_PROVIDERS, the mechanism Terraform documents for debugging providers). Without
# it, `terraform test` starts the plugin two or three times a run block, about 1.2 s of CPU
# each time, which was most of this script's cost. Sharing is safe here because no step
# configures the provider: the tests use `mock_provider "aws"` (the real plugin only answers
# for its schema and validation) and `terraform validate` never configures one. It is skipped,
# and every step starts its own plugin as before, when TF_SHARED_PROVIDER=0, when the
# directories did not install exactly one hashicorp/aws binary, or when the plugin does not
# say where it listens within 60 s. In debug mode the provider's SDK logs every call at TRACE
# level (19 MB for tests/variables.tftest.hcl alone), a third of the provider's CPU:
# TF_LOG_SDK=ERROR (terraform-plugin-log's variable) keeps only errors.
#
# Go's garbage collector: each step runs Terraform with GOGC=off and GOMEMLIMIT=1GiB (unless
# the caller set either), so it collects only when its heap reaches 1 GiB. With Go's default
# (GOGC=100) Terraform spent about 40% of its CPU collecting: tests/variables.tftest.hcl took
# 40 s of CPU, 23 s so, at a peak of 1.1 GB instead of 0.3 GB; two steps at a time stay well
# inside the machine's memory. The shared provider keeps Go's default: its CPU hardly moves
# (with TF_SHARED_PROVIDER=0 the plugins a step starts inherit the step's settings).
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
provider_pid=
cleanup() {
  if [[ -n ${provider_pid} ]] && ! kill "${provider_pid}" 2>/dev/null; then
    echo "terraform: the shared provider process ended early; its last lines:" >&2
    tail -n 20 "${logs}/provider.log" >&2
  fi
  rm -rf "${logs}"
}
trap cleanup EXIT

# Starts the one hashicorp/aws binary that the inits of "$@" installed in debug mode and
# exports TF_REATTACH_PROVIDERS; says why and returns without it otherwise.
share_provider() {
  local bins=() line="" i
  [[ ${TF_SHARED_PROVIDER:-1} != 0 ]] || return 0
  mapfile -t bins < <(
    for dir in "$@"; do
      for bin in "${dir%/}"/.terraform/providers/registry.terraform.io/hashicorp/aws/*/*/terraform-provider-aws*; do
        [[ -x ${bin} ]] && realpath "${bin}"
      done
    done | sort -u
  )
  if ((${#bins[@]} != 1)); then
    echo "terraform: ${#bins[@]} hashicorp/aws binaries installed, not one: each step starts its own"
    return 0
  fi
  TF_LOG_SDK=${TF_LOG_SDK:-ERROR} "${bins[0]}" -debug >"${logs}/provider.log" 2>&1 &
  provider_pid=$!
  for ((i = 0; i < 600; i++)); do
    line=$(grep -o "TF_REATTACH_PROVIDERS='[^']*'" "${logs}/provider.log" || true)
    [[ -z ${line} ]] || break
    kill -0 "${provider_pid}" 2>/dev/null || break
    sleep 0.1
  done
  if [[ -z ${line} ]]; then
    echo "terraform: the provider did not start in debug mode: each step starts its own"
    kill "${provider_pid}" 2>/dev/null || true
    provider_pid=
    return 0
  fi
  line=${line#TF_REATTACH_PROVIDERS=\'}
  export TF_REATTACH_PROVIDERS=${line%\'}
}

# One step ("init DIR", "validate DIR" or "test DIR"); everything it prints goes to its
# log, shown whole on failure (under a lock: two steps ending at once do not interleave).
step() {
  local what=$1 dir=$2 log report rc=0
  log=$(mktemp "${logs}/step.XXXXXX")
  report="${log}.report"
  export GOGC=${GOGC:-off} GOMEMLIMIT=${GOMEMLIMIT:-1GiB}
  case ${what} in
    init) terraform -chdir="${dir}" init -backend=false -input=false -no-color >"${log}" 2>&1 || rc=$? ;;
    validate) terraform -chdir="${dir}" validate -no-color >"${log}" 2>&1 || rc=$? ;;
    test) terraform -chdir="${dir}" test -no-color >"${log}" 2>&1 || rc=$? ;;
  esac
  if ((rc == 0)); then
    [[ ${what} == init ]] || printf 'terraform %s %s: %s\n' "${what}" "${dir%/}" "$(awk 'NF { last = $0 } END { print last }' "${log}")" >"${report}"
  else
    {
      printf 'terraform %s %s FAILED (exit %s):\n' "${what}" "${dir%/}" "${rc}"
      cat "${log}"
    } >"${report}"
  fi
  [[ ! -f ${report} ]] || flock "${logs}/.print" cat "${report}"
  return $((rc ? 1 : 0))
}
export -f step
export logs

# Steps, one a line, "<run blocks> test DIR" or "0 validate DIR", run longest first.
plan=()
for dir in "$@"; do
  files=()
  if [[ ${mode} == all ]]; then
    for f in "${dir%/}"/tests/*.tftest.hcl "${dir%/}"/*.tftest.hcl; do
      [[ -f ${f} ]] && files+=("${f}")
    done
  fi
  if ((${#files[@]} == 0)); then
    plan+=("0 validate ${dir}")
  else
    plan+=("$(awk '/^run / { n++ } END { print n + 0 }' "${files[@]}") test ${dir}")
  fi
done

# The single quotes are meant: bash -c expands its arguments, not this shell.
# shellcheck disable=SC2016
printf '%s\n' "$@" | xargs -P "${init_jobs}" -I{} bash -c 'step init "$1"' _ {}
share_provider "$@"
# shellcheck disable=SC2016
printf '%s\n' "${plan[@]}" | sort -k1,1nr | cut -d' ' -f2- |
  xargs -P "${jobs}" -L1 bash -c 'step "$@"' _
