# examples/complete plans from scratch (mock provider: no account needed). Its vault
# key is a resource of the example, whose ARN is unknown until apply: nothing is
# overridden, so this run is the first plan a user gets, and it stops with "Invalid
# count argument" if any count or for_each of the module waits on that ARN.

mock_provider "aws" {
  source = "./tests/mocks"
}

run "complete_example_plans_with_servicenow" {
  command = plan

  module {
    source = "./examples/complete"
  }

  assert {
    condition     = output.servicenow_function_name == "acb-prod-servicenow"
    error_message = "The example delivers to ServiceNow through the module's component."
  }
}
