"""ServiceNow delivery: SNS notifications, queued in SQS, POSTed to Event Management's jsonv2.

See docs/contracts.md section 7 (the function) and section 8 (alarm events).
"""
