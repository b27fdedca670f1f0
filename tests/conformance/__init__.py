"""The pyperformance conformance suite: every pure-Python benchmark natively and migrated."""
