import time

STARTED = time.monotonic()
# Loading moto and botocore's service models takes a few seconds: say so first.
print("[  0.0s] loading the AWS emulator (moto)...", flush=True)

from demo.run import main  # noqa: E402

raise SystemExit(main(started=STARTED))
