"""Validate: run the Great Expectations suites on the input batch and on the staged outputs."""
