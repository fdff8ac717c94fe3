"""Self-checks run on demand (`python benchmarks/selfcheck/<name>.py`): does the suite measure what it claims?

A package so that the type checker and the lint see them as it sees the rest of benchmarks/; nothing imports them.
"""
