"""Reports read result files from disk and return tables and figures. Nothing here imports a runtime or TensorFlow."""
