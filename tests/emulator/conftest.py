"""A DynamoDB table ``t`` (hash key ``k``) in moto, with the emulator's item operations:
one step each (dynamodb_atomic) and transactions undone item by item
(dynamodb_transactions)."""

import boto3
import pytest
from moto import mock_aws

from emulator import dynamodb_atomic, dynamodb_transactions


@pytest.fixture
def ddb():
    dynamodb_atomic.install()
    dynamodb_transactions.install()
    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-west-1")
        client.create_table(
            TableName="t",
            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield client
