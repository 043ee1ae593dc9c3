# The instance document's fixed settings (hook directories, automatic-selection exclusions)
# reach the document, and their validations reject what they should.
# The runs that only expect a variable's failure plan tests/fixtures/root_variables, the
# root's variables without its submodules (see variables.tftest.hcl).

mock_provider "aws" {
  source = "./tests/mocks"
}

run "default_hook_directories_and_exclusions" {
  command = plan

  assert {
    condition = alltrue([
      for line in [
        "ACB_PRE_FREEZE_HOOK_DIR='/etc/app-consistent-backup/pre-freeze.d'",
        "ACB_POST_THAW_HOOK_DIR='/etc/app-consistent-backup/post-thaw.d'",
        "ACB_AUTO_EXCLUDE_PATHS='/var/log/audit:/tmp:/var/tmp'",
      ] : strcontains(yamldecode(module.instance_documents.document_content).mainSteps[0].inputs.runCommand[0], "\n${line}\n")
    ])
    error_message = "The default hook directories and exclusions are written into the document."
  }

  assert {
    condition     = !contains(keys(yamldecode(module.instance_documents.document_content).parameters), "PostThawHookDir")
    error_message = "Hook directories are not parameters of a command."
  }
}

run "custom_hook_directories_and_exclusions" {
  command = plan

  variables {
    instance_hooks            = { post_thaw_dir = "/opt/backup/post.d" }
    auto_selection_exclusions = []
  }

  assert {
    condition = alltrue([
      for line in [
        "ACB_PRE_FREEZE_HOOK_DIR='/etc/app-consistent-backup/pre-freeze.d'",
        "ACB_POST_THAW_HOOK_DIR='/opt/backup/post.d'",
        "ACB_AUTO_EXCLUDE_PATHS=''",
      ] : strcontains(yamldecode(module.instance_documents.document_content).mainSteps[0].inputs.runCommand[0], "\n${line}\n")
    ])
    error_message = "instance_hooks and auto_selection_exclusions reach the document; an omitted key keeps its default."
  }
}

run "rejects_relative_hook_directory" {
  command = plan
  module {
    source = "./tests/fixtures/root_variables"
  }
  variables { instance_hooks = { pre_freeze_dir = "etc/hooks" } }
  expect_failures = [var.instance_hooks]
}

run "rejects_traversing_hook_directory" {
  command = plan
  module {
    source = "./tests/fixtures/root_variables"
  }
  variables { instance_hooks = { post_thaw_dir = "/etc/../tmp" } }
  expect_failures = [var.instance_hooks]
}

run "rejects_quote_in_hook_directory" {
  command = plan
  module {
    source = "./tests/fixtures/root_variables"
  }
  variables { instance_hooks = { pre_freeze_dir = "/etc/h'; reboot; '" } }
  expect_failures = [var.instance_hooks]
}

run "rejects_usr_sbin_as_hook_directory" {
  command = plan
  module {
    source = "./tests/fixtures/root_variables"
  }
  variables { instance_hooks = { post_thaw_dir = "/usr/sbin" } }
  expect_failures = [var.instance_hooks]
}

run "rejects_top_level_hook_directory" {
  command = plan
  module {
    source = "./tests/fixtures/root_variables"
  }
  variables { instance_hooks = { pre_freeze_dir = "/opt" } }
  expect_failures = [var.instance_hooks]
}

run "rejects_relative_exclusion" {
  command = plan
  module {
    source = "./tests/fixtures/root_variables"
  }
  variables { auto_selection_exclusions = ["var/log/audit"] }
  expect_failures = [var.auto_selection_exclusions]
}

run "rejects_exclusion_with_trailing_slash" {
  command = plan
  module {
    source = "./tests/fixtures/root_variables"
  }
  variables { auto_selection_exclusions = ["/tmp/"] }
  expect_failures = [var.auto_selection_exclusions]
}
