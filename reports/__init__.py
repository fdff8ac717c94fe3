"""Reports read result files from disk and return tables and figures. Nothing here imports a runtime or TensorFlow."""
from reports.results import SCHEMA_VERSION, ResultsError, load_run

__all__ = ["SCHEMA_VERSION", "ResultsError", "load_run"]
