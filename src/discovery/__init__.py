"""Discovery Lambda: find the instances a schedule selects and start one execution each.

Modules, one concern each:

- ``config``: the function's environment, read once.
- ``events``: the schedule's event (and a continuation's), validated.
- ``clock``: the one seam for time (waits, deadlines, timestamps); a virtual-time
  harness replaces it.
- ``inventory``: DescribeInstances page by page (the resumable cursor), and the
  decision taken for each instance.
- ``selection``: which listed instances the run selects, and which carry a value no
  schedule selects.
- ``naming``: execution names and inputs (docs/contracts.md section 2).
- ``pacing``: the pace in front of StartExecution (the seam the API budgets will set).
- ``fanout``: the bounded pool that starts the executions as instances are offered.
- ``tally``: one invocation's counts, in bounded memory.
- ``dryrun``: what a dry run reports instead of starting.
- ``notify``: notifications to SNS in the ServiceNow-ready format (section 5).
- ``report``: the run summary log line and its CloudWatch metrics.
- ``continuation``: handing the rest of a large fleet on to a new invocation.
- ``handler``: the Lambda entry point that streams the listing into the fan-out.
"""
