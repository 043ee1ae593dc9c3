# examples/complete plans with the ServiceNow delivery component (mock provider:
# no account needed).

mock_provider "aws" {
  source = "./tests/mocks"
}

# modules/vault counts its key on `kms_key_arn == null`, which is unknown while the
# example's own key is planned: a real first plan of this example stops there
# ("Invalid count argument"; reported to the vault module's owner). The override
# makes the key's ARN known at plan time, so the rest of the example is planned.
run "complete_example_plans_with_servicenow" {
  command = plan

  module {
    source = "./examples/complete"
  }

  override_resource {
    target          = aws_kms_key.backup
    override_during = plan
    values          = { arn = "arn:aws:kms:eu-west-1:111122223333:key/22222222-3333-4444-5555-666666666666" }
  }

  assert {
    condition     = output.servicenow_function_name == "acb-prod-servicenow"
    error_message = "The example delivers to ServiceNow through the module's component."
  }
}
