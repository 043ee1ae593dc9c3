# Keys and a subscribed queue created beside the module (tests/fixtures/unknown_at_plan):
# their ARNs are unknown at plan, nothing is overridden, and the plan must work
# (vault, topics and destination vault told create_kms_key = false; queue policies
# keyed by subscription, not by queue ARN).

mock_provider "aws" {
  source = "./tests/mocks"
}

run "keys_and_queue_of_the_same_configuration_plan" {
  command = plan

  module {
    source = "./tests/fixtures/unknown_at_plan"
  }

  assert {
    condition     = aws_kms_key.vault.enable_key_rotation && aws_sqs_queue.itsm.name == "acb-fixture-itsm"
    error_message = "The fixture plans its own keys and queue beside the module."
  }
}
