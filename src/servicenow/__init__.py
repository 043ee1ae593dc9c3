"""ServiceNow delivery: SNS notifications, queued in SQS, POSTed to Event Management's jsonv2.

See docs/contracts.md section 6 (the function) and section 7 (alarm events).
"""
