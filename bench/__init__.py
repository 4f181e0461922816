"""Benchmarks (run as scripts: ``.venv/bin/python bench/issue_batch.py``)."""
