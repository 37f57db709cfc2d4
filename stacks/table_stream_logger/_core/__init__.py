"""Private plumbing of the constructs: nothing here is public API, and any of it may change.

The shared stream consumer (function, role, log group, event source mapping), the failure
destinations, the alarms, the table checks, the option checks, the template scanners' skips, the
IAM action names, the saved queries.
"""
