"""Measuring: pyperf workers, load tests and accuracy, operator profiles and the host description."""
