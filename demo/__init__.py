"""`make demo`: the module deployed into a local AWS emulator and run across a small fleet.

    python -m demo                  # what `make demo` runs
    python -m demo --keep-workdir   # `make demo KEEP_WORKDIR=1`: keep its files to look at

1. starts the emulator (``emulator.server.LocalEmulator``: moto's server with this
   project's extensions) on 127.0.0.1, in this process;
2. applies ``examples/local`` with the real Terraform (a copy of the module in a
   temporary directory, offline with the provider mirror);
3. creates a fleet in the emulator that takes every path (``demo.fleet``);
4. runs one backup cycle: the deployed discovery function's code with the deployed
   function's configuration and the deployed schedule's input, the executions of the
   deployed state machine, the emulated SSM agents; as root with loop devices, one
   instance's freeze and thaw run the deployed SSM document for real against
   loop-mounted filesystems (``emulator.real_agent``, ``demo.livefs``);
5. delivers the failures to a local ServiceNow (``emulator.servicenow``, a real HTTP
   server on the loopback): the topic's queue drained as Lambda's event source mapping
   does, each batch through the deployed delivery function (``demo.servicenow``);
6. a crash drill: the deployed discovery code fails, its alarm is evaluated as
   CloudWatch does (``emulator.cloudwatch``), and the alarm and its OK reach ServiceNow
   the same way;
7. prints a report in 100 columns (``demo.report`` reads the facts back, ``demo.render``
   writes them), with a body ServiceNow received as it arrived, destroys everything with
   Terraform and cleans up, also when interrupted; then the next steps
   (``demo.next_steps``).

The exit code is 0 when every instance ended as expected, 1 otherwise.
``tests/e2e`` runs the same thing and asserts each instance's outcome.
"""
