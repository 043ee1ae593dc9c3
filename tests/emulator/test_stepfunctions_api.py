"""The Step Functions calls added for the Terraform provider answer as AWS does."""

import json

import boto3
import pytest
from moto import mock_aws

from emulator import stepfunctions_api

VALID = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})


@pytest.fixture
def sfn():
    stepfunctions_api.install()
    with mock_aws():
        yield boto3.client("stepfunctions", region_name="eu-west-1")


def test_valid_definition_is_ok(sfn):
    answer = sfn.validate_state_machine_definition(definition=VALID, type="STANDARD")
    assert answer["result"] == "OK"
    assert answer["diagnostics"] == []


def test_invalid_definition_fails_with_a_diagnostic(sfn):
    broken = json.dumps({"StartAt": "Nowhere", "States": {"Done": {"Type": "Bogus"}}})
    answer = sfn.validate_state_machine_definition(definition=broken, type="STANDARD")
    assert answer["result"] == "FAIL"
    assert answer["diagnostics"][0]["severity"] == "ERROR"
    assert answer["diagnostics"][0]["message"]


def test_versions_are_listed(sfn):
    iam_role = "arn:aws:iam::123456789012:role/sfn"
    plain = sfn.create_state_machine(name="plain", definition=VALID, roleArn=iam_role)
    arn = plain["stateMachineArn"]
    assert sfn.list_state_machine_versions(stateMachineArn=arn)["stateMachineVersions"] == []
    published = sfn.create_state_machine(
        name="published", definition=VALID, roleArn=iam_role, publish=True
    )
    arn = published["stateMachineArn"]
    versions = sfn.list_state_machine_versions(stateMachineArn=arn)["stateMachineVersions"]
    assert [v["stateMachineVersionArn"] for v in versions] == [f"{arn}:1"]
