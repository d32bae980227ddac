"""Benchmarks of minitorch_rnn: throughput, memory and scaling against PyTorch and seed-style code.

Run ``python -m benchmarks --quick`` (seconds, no optional dependency needed) or
``python -m benchmarks --full`` (minutes; the figures we report). See :mod:`benchmarks.run`.
"""
