"""The local sandbox: a Pinpoint-speaking AWS endpoint and an API Gateway front for the real handler.

Not deployed. Start it with ``make run`` (``python -m local``); see docs/sandbox.md.
"""
