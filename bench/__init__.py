"""Benchmarks that print ratios to a bare-boto3 baseline measured in the same run (``make bench``).

Each figure is a ratio, so it holds on a noisy machine: cold start (fresh interpreters), warm request
(one process, many calls) and the deployed asset's size. ``python -m bench.load`` is the load test.
"""
