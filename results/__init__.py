"""The results contract: what `bench run` writes and every report reads (schema, typed record, statistics, errors).

Nothing here imports a runtime, TensorFlow or any other part of edgebench: every layer may depend on it.
"""
__version__ = "0.1.0"
