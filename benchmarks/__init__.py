"""oauth-sim benchmarks (not tests): run.py is the one command; see README.md."""
