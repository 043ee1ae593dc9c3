"""KMS keys as EBS sees them: the AWS managed key ``aws/ebs`` and customer-managed keys.

moto 5.2 creates the key behind ``alias/aws/ebs`` (when an encrypted volume names no
key, or when DescribeKey is asked for the predefined alias) but reports it
``KeyManager: CUSTOMER``, keeps a volume's ``KmsKeyId`` as the caller wrote it (a key id,
an alias) and gives snapshots of an encrypted volume no key. This module patches moto so
that:

* a key behind a predefined ``alias/aws/<service>`` alias is AWS managed
  (``KeyManager: AWS``), whichever way it came into being;
* a volume's ``KmsKeyId`` is the key's ARN (a key of this account and Region named by id,
  ARN or alias); a key ARN of another account is kept as written;
* a snapshot of an encrypted volume carries the volume's key;
* ``recovery_point_keys(...)`` tells AWS Backup's emulation (``emulator.backup``) which
  keys protect a recovery point's snapshots, so that a copy into another account of a
  point on an AWS managed key fails as it does on AWS.

Sources in emulator/README.md ("KMS keys of EBS volumes").
"""

from __future__ import annotations

from typing import Any

from ._patching import original, patch

EBS_ALIAS = "alias/aws/ebs"
# botocore's kms model, KeyManagerType: AWS, CUSTOMER.
AWS_MANAGED = "AWS"


def _kms(account: str, region: str) -> Any:
    from moto.kms.models import kms_backends

    return kms_backends[account][region]


def _reserved(alias_name: str) -> bool:
    from moto.kms.utils import RESERVED_ALIASES

    return alias_name in RESERVED_ALIASES


def key_arn(account: str, region: str, key_id: str) -> str | None:
    """The ARN of a key of this account and Region named by id, ARN or alias; else None."""
    backend = _kms(account, region)
    try:
        return backend.describe_key(key_id).arn
    except Exception:  # not a key of this account and Region (another account's ARN)
        return None


def key_manager(account: str, region: str, key: str) -> str | None:
    """``AWS`` or ``CUSTOMER`` for a key this account and Region hold; None otherwise."""
    backend = _kms(account, region)
    try:
        return backend.describe_key(key).key_manager
    except Exception:
        return None


def recovery_point_keys(ec2: Any, snapshot_ids: list[str]) -> list[str]:
    """The KMS keys of the snapshots of a recovery point (encrypted ones only)."""
    keys = []
    for snapshot_id in snapshot_ids:
        snapshot = ec2.snapshots.get(snapshot_id)
        key = getattr(snapshot, "kms_key_id", None) if snapshot is not None else None
        if key and key not in keys:
            keys.append(key)
    return keys


def install() -> None:
    from moto.ec2.models.elastic_block_store import EBSBackend
    from moto.kms.models import KmsBackend

    create_alias = original(KmsBackend, "create_alias")

    def _create_alias(self: Any, target_key_id: str, alias_name: str) -> Any:
        # The API refuses every alias/aws/ name from callers (moto: NotAuthorizedException);
        # only AWS's own paths (EBS's default key, DescribeKey on a predefined alias) reach
        # the backend with one, and what they create is an AWS managed key.
        alias = create_alias(self, target_key_id, alias_name)
        if _reserved(alias_name):
            self.keys[self.get_key_id(target_key_id)].key_manager = AWS_MANAGED
        return alias

    create_volume = original(EBSBackend, "create_volume")

    def _create_volume(self: Any, *args: Any, **kwargs: Any) -> Any:
        volume = create_volume(self, *args, **kwargs)
        if volume.kms_key_id and not str(volume.kms_key_id).startswith("arn:"):
            arn = key_arn(self.account_id, self.region_name, volume.kms_key_id)
            if arn:
                volume.kms_key_id = arn
        return volume

    create_snapshot = original(EBSBackend, "create_snapshot")

    def _create_snapshot(self: Any, volume_id: str, *args: Any, **kwargs: Any) -> Any:
        snapshot = create_snapshot(self, volume_id, *args, **kwargs)
        volume = self.get_volume(volume_id)
        if volume.encrypted and volume.kms_key_id:
            snapshot.kms_key_id = volume.kms_key_id
        return snapshot

    patch(KmsBackend, "create_alias", _create_alias)
    patch(EBSBackend, "create_volume", _create_volume)
    patch(EBSBackend, "create_snapshot", _create_snapshot)
