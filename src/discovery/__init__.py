"""Discovery Lambda: find the instances a schedule selects and start one execution each.

Modules, one concern each:

- ``config``: the function's environment, read once.
- ``events``: the schedule's event (and a continuation's), validated.
- ``inventory``: DescribeInstances, and the decision taken for each instance.
- ``naming``: execution names and inputs (docs/contracts.md section 2).
- ``pacing``: the client-side token bucket in front of StartExecution.
- ``fanout``: the bounded pool that starts the executions.
- ``notify``: failures to SNS in the ServiceNow-ready format (section 5).
- ``report``: the run summary log line and its CloudWatch metrics.
- ``continuation``: handing the rest of a large fleet on to a new invocation.
- ``handler``: the Lambda entry point that ties them together.
"""
