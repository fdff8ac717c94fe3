"""The sub-commands of `bench`, one module each, all registered the same way.

Each module has `register(sub)`, which adds its parser to the top-level parser's sub-parsers and sets its handler,
and that handler, `run(args) -> int` (the exit code). Modules import only argparse-level code at import time, so
`bench --help` stays light; the work a command does is imported inside its handler.
"""
