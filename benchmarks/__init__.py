"""Measuring: the CLI, the run, building variants, isolated workers and runtimes."""
