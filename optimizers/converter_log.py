"""A converter's first real error as one line, and its full log kept for the user.

onnx2tf prints its real error first (a traceback, then `onnx_op_name: ...`) and ends with the same advice lines for
every model ("try the -onwdt option"): the last ERROR line is never the reason. TensorFlow's messages carry paths of
this machine and Keras wraps the cause in "Exception encountered when calling layer ...".
"""
from __future__ import annotations

import re

from edgebench.optimizers.convert import ConversionError

REASON_CHARS = 200
_BANNERS = ("The trace log is below", "input_onnx_file_path", "onnx_op_name", "Read this and deal",
            "Alternatively, if the input OP", "If the input OP of ONNX", "Also, for models that include",
            "Traceback (most recent call last)")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_PATH = re.compile(r"(?:[A-Za-z]:)?(?:/[\w.@+\-]+){2,}/?")


class LoggedConversionError(ConversionError):
    """A conversion that failed with a log worth keeping: the message is one line, `log` the tool's full output."""

    def __init__(self, message: str, log: str) -> None:
        super().__init__(message)
        self.log = log


def no_paths(text: str) -> str:
    """Paths of this machine reduced to their last part (`/tmp/x/model.onnx` -> `model.onnx`)."""
    return _PATH.sub(lambda m: m.group(0).rstrip("/").rsplit("/", 1)[-1], text)


def _exception_text(exc: BaseException) -> str:
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    keep: list[str] = []
    for ln in lines:
        if ln.startswith(("Call arguments received", "Arguments received")):
            break  # Keras' argument dump: long and says nothing about the cause
        keep.append(ln)
        if len(keep) == 2:
            break
    return " ".join(keep)


def _failed_node(log: str) -> str | None:
    # a failure inside a subgraph (If, Loop) is printed for the inner node first, then for the graph's own node
    found = re.findall(r"onnx_op_name:\s*(\S+)", log)
    return found[-1] if found else None


def _first_error_line(log: str) -> str | None:
    for ln in log.splitlines():
        text = ln.strip()
        if text.startswith("ERROR:"):
            text = text[len("ERROR:"):].strip()
            if text and not text.startswith(_BANNERS):
                return text
    return None


def first_error(exc: BaseException, log: str, node_names: dict[str, str] | None = None) -> str:
    """`ONNX Concat node '/model.22/Concat': ValueError: Dimension -1 must be >= 0`: the exception (or, when the
    tool only exited, its first non-banner ERROR line), the ONNX node and op it was converting, no path, one line of
    at most REASON_CHARS characters. `node_names` maps the converter's node names back to the model's own."""
    log = _ANSI.sub("", log)
    if isinstance(exc, SystemExit) or not str(exc).strip():
        text = _first_error_line(log) or (f"{type(exc).__name__}" if not isinstance(exc, SystemExit)
                                          else f"exited with code {exc.code}")
    else:
        text = f"{type(exc).__name__}: {_exception_text(exc)}"
    text = no_paths(text)  # before the node's name is added: exporters name nodes like paths ('/model.22/Concat')
    node = _failed_node(log)
    if node:
        op = node.split("_", 1)[1] if re.match(r"node\d+_", node) else None
        where = (node_names or {}).get(node, node)
        text = f"ONNX {op + ' ' if op else ''}node {where!r}: {text}"  # first: a long message is cut at its end
    text = " ".join(text.split())
    return text if len(text) <= REASON_CHARS else text[:REASON_CHARS - 3] + "..."
