"""The benchmark: the gateway against a raw driver baseline, in one run (see bench/README.md)."""
