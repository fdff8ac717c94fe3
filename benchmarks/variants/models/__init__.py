"""The embedded default model file (data only)."""
