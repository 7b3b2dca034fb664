"""Publish: swap the validated staged tables in, then write the serving copy and exports."""
