"""Benchmark scripts (``make bench``): each prints a table and writes ``benchmarks/results/*.json``."""
