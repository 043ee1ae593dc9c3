"""Backup vault access policies for moto: PutBackupVaultAccessPolicy, GetBackupVaultAccessPolicy
and DeleteBackupVaultAccessPolicy, which moto 5.2 does not implement and the module's
aws_backup_vault_policy (modules/vault-access-policy) calls.

The policy is kept on moto's backup backend, as given. It is checked as AWS Backup's guide
("Vault access policies") describes it, JSON with a Statement and no wildcard in Action; it
is not enforced: the emulator does not evaluate who may delete what.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote

from ._patching import patch
from .faults import EmulatedError

URL_PATHS = ("{0}/backup-vaults/(?P<backupVaultName>[^/]+)/access-policy$",)


def _vault(self: Any) -> Any:
    match = re.search(r"/backup-vaults/([^/]+)/access-policy", self.path)
    name = unquote(match.group(1)) if match else ""
    vault = self.backup_backend.vaults.get(name)
    if vault is None:
        raise EmulatedError("ResourceNotFoundException", f"Backup vault {name} does not exist")
    return vault


def _policies(backend: Any) -> dict[str, str]:
    policies = getattr(backend, "_acb_vault_policies", None)
    if policies is None:
        policies = {}
        backend._acb_vault_policies = policies
    return policies


def _check(policy: Any) -> None:
    try:
        document = json.loads(policy)
    except (TypeError, ValueError):
        raise EmulatedError("InvalidParameterValueException", "Policy is not JSON") from None
    statements = document.get("Statement") if isinstance(document, dict) else None
    if not isinstance(statements, list) or not statements:
        raise EmulatedError("InvalidParameterValueException", "Policy has no Statement")
    for statement in statements:
        actions = statement.get("Action", [])
        for action in [actions] if isinstance(actions, str) else actions:
            if "*" in action:
                raise EmulatedError(
                    "InvalidParameterValueException",
                    f"Wildcards are not supported in Action of a vault access policy: {action}",
                )


def put_backup_vault_access_policy(self: Any) -> Any:
    from moto.core.responses import EmptyResult

    vault = _vault(self)
    policy = self._get_param("Policy")
    if not policy:
        raise EmulatedError("MissingParameterValueException", "Policy is required")
    _check(policy)
    _policies(self.backup_backend)[vault.backup_vault_name] = policy
    return EmptyResult()


def get_backup_vault_access_policy(self: Any) -> Any:
    from moto.core.responses import ActionResult

    vault = _vault(self)
    policy = _policies(self.backup_backend).get(vault.backup_vault_name)
    if policy is None:
        raise EmulatedError(
            "ResourceNotFoundException", f"Backup vault {vault.backup_vault_name} has no policy"
        )
    return ActionResult(
        {
            "BackupVaultName": vault.backup_vault_name,
            "BackupVaultArn": vault.backup_vault_arn,
            "Policy": policy,
        }
    )


def delete_backup_vault_access_policy(self: Any) -> Any:
    from moto.core.responses import EmptyResult

    vault = _vault(self)
    _policies(self.backup_backend).pop(vault.backup_vault_name, None)
    return EmptyResult()


OPERATIONS = {
    "put_backup_vault_access_policy": put_backup_vault_access_policy,
    "get_backup_vault_access_policy": get_backup_vault_access_policy,
    "delete_backup_vault_access_policy": delete_backup_vault_access_policy,
}


def install() -> None:
    from moto.backup import urls
    from moto.backup.responses import BackupResponse

    for name, function in OPERATIONS.items():
        patch(BackupResponse, name, function)
    for pattern in URL_PATHS:
        if pattern not in urls.url_paths:
            urls.url_paths[pattern] = BackupResponse.dispatch


def uninstall_urls() -> None:
    from moto.backup import urls

    for pattern in URL_PATHS:
        urls.url_paths.pop(pattern, None)
