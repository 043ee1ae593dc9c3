"""`make smoke`: the module tried once in a sandbox AWS account, then removed.

    SMOKE_CONFIRM_ACCOUNT=111122223333 make smoke REGION=eu-west-1 SUBNET=subnet-0abc...
    python -m smoke --region eu-west-1 --subnet subnet-0abc...   # what make smoke runs

1. refuses to start unless ``SMOKE_CONFIRM_ACCOUNT`` is the account of the credentials
   (``sts:GetCallerIdentity``), before anything is created;
2. applies a copy of ``examples/minimal`` with ``smoke/terraform``: an override of the
   module call (a name of its own, one disabled schedule, one day of retention, a
   deletable vault, a notification for the success too) and one small Amazon Linux
   instance launched for the smoke (AMI from the public SSM parameter, instance
   profile with AmazonSSMManagedInstanceCore, a 1 GiB data volume mounted on /data,
   tagged for the schedule), with an SQS queue subscribed to the topic;
3. waits until the instance's SSM agent is online and /data is mounted;
4. runs the schedule at once: invokes the deployed discovery function with the
   deployed schedule's input;
5. follows the execution, AWS Backup's job, the recovery point's snapshots, the freeze
   and thaw commands and the notification, and notes when each became visible;
6. prints the report (and writes ``smoke-report.json``): what the emulator can only
   assume, measured in this account;
7. destroys everything: the recovery point, then ``terraform destroy``; also when a
   step fails, on Ctrl-C or SIGTERM.

The same code runs against the local emulator in ``tests/e2e/test_smoke.py``; the
differences are all in ``smoke.targets`` (see its docstring and docs/smoke.md).
"""
