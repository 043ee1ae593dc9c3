#!/usr/bin/env bash
# Writes a Terraform CLI configuration that installs hashicorp/aws from a local
# provider mirror when one is found (offline machines, CI), or from the registry
# otherwise. Prints the mirror used (or "registry") on stderr.
#
# usage: terraform-cli-config.sh OUTPUT_FILE [MIRROR_DIR]
set -euo pipefail

out=${1:?usage: terraform-cli-config.sh OUTPUT_FILE [MIRROR_DIR]}
mirror=${2:-}

find_mirror() {
  local candidate
  for candidate in /opt/tf-plugins "${HOME}/.terraform.d/plugins" /usr/local/share/terraform/plugins /usr/share/terraform/plugins; do
    if [[ -d "${candidate}/registry.terraform.io/hashicorp/aws" ]]; then
      printf '%s\n' "${candidate}"
      return 0
    fi
  done
  # A bounded search of the usual top levels: deeper would walk the whole disk.
  candidate=$(find / -maxdepth 3 -type d -name registry.terraform.io -path '*/registry.terraform.io' 2>/dev/null | head -n 1 || true)
  if [[ -n "${candidate}" && -d "${candidate}/hashicorp/aws" ]]; then
    dirname "${candidate}"
  fi
}

if [[ -z "${mirror}" ]]; then
  mirror=$(find_mirror || true)
elif [[ ! -d "${mirror}/registry.terraform.io/hashicorp/aws" ]]; then
  echo "TF_PLUGIN_DIR=${mirror} holds no registry.terraform.io/hashicorp/aws: give the folder that contains registry.terraform.io" >&2
  exit 2
fi

mkdir -p "$(dirname "${out}")"
if [[ -n "${mirror}" ]]; then
  cat >"${out}" <<CONFIG
provider_installation {
  filesystem_mirror {
    path    = "${mirror}"
    include = ["registry.terraform.io/hashicorp/*"]
  }
  direct {
    exclude = ["registry.terraform.io/hashicorp/*"]
  }
}
CONFIG
  echo "terraform providers: mirror ${mirror}" >&2
else
  printf 'provider_installation {\n  direct {}\n}\n' >"${out}"
  echo "terraform providers: registry (no local mirror found; set TF_PLUGIN_DIR to use one)" >&2
fi
