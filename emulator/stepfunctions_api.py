"""Step Functions calls the Terraform AWS provider makes that moto lacks.

`aws_sfn_state_machine` calls ValidateStateMachineDefinition before creating or
updating a state machine, and ListStateMachineVersions when reading one. moto
5.2 answers neither. They are added to moto's own StepFunctionResponse, so they
work in-process (mock_aws) and in server mode alike:

- ValidateStateMachineDefinition parses the definition with moto's own ASL
  parser (the one that later executes it): a definition it cannot run is
  refused with the parser's message, as AWS would refuse an invalid one.
- ListStateMachineVersions lists the versions moto keeps for the state machine.
"""

from __future__ import annotations

from typing import Any

from moto.core.responses import ActionResult
from moto.stepfunctions.responses import StepFunctionResponse

_INSTALLED = False


def _validate_state_machine_definition(self: StepFunctionResponse) -> ActionResult:
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    definition = self._get_param("definition") or ""
    diagnostics: list[dict[str, Any]] = []
    try:
        AmazonStateLanguageParser.parse(definition)
    except Exception as error:  # the parser raises several types; each is a verdict
        diagnostics.append(
            {
                "severity": "ERROR",
                "code": "SCHEMA_VALIDATION_FAILED",
                "message": str(error) or type(error).__name__,
            }
        )
    return ActionResult(
        {
            "result": "FAIL" if diagnostics else "OK",
            "diagnostics": diagnostics,
            "truncated": False,
        }
    )


def _list_state_machine_versions(self: StepFunctionResponse) -> ActionResult:
    arn = self._get_param("stateMachineArn")
    machine = self.stepfunction_backend.describe_state_machine(arn)
    versions = [
        {"stateMachineVersionArn": v.arn, "creationDate": v.creation_date}
        for v in sorted(getattr(machine, "versions", {}).values(), key=lambda v: -v.version)
    ]
    return ActionResult({"stateMachineVersions": versions})


def install() -> None:
    """Add the calls to moto (idempotent)."""
    global _INSTALLED  # noqa: PLW0603 - one process-wide patch of moto's class
    if _INSTALLED:
        return
    StepFunctionResponse.validate_state_machine_definition = _validate_state_machine_definition
    StepFunctionResponse.list_state_machine_versions = _list_state_machine_versions
    _INSTALLED = True
