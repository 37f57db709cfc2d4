"""Benchmarks: handler speed, log bytes, cold start and synth time, side by side.

Run ``make bench`` (``make bench ARGS=--quick`` skips the 10,000 batch and ``make test``);
it prints one table and writes it, with the machine and the versions, to ``bench/RESULTS.md``.
"""
