"""Short, specific reasons for runtime errors whose own messages are long or bury the cause at the end."""
from __future__ import annotations

import re
import signal

_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"Select TensorFlow op\(s\).*?\((Flex\w+)\)", re.S),
     "LiteRT lacks operator {0}: a TensorFlow 'select' op that needs the Flex delegate, which ai-edge-litert "
     "does not ship"),
    (re.compile(r"unresolved custom op: ([\w.\-]+)"),
     "LiteRT lacks custom operator {0}: the model needs a kernel registered by the app that made it"),
    (re.compile(r"([\w.]+):(\w+)\(-?\d+\) is not a registered function/op"),
     "ONNX Runtime lacks operator {1} (domain {0}): a custom operator it has no kernel for"),
    (re.compile(r"No Op registered for (\S+) with domain_version of (\d+)"),
     "ONNX Runtime lacks operator {0} (opset {1})"),
    (re.compile(r"Could not find an implementation for (\S+?)\((\d+)\)"),
     "ONNX Runtime has no CPU kernel for {0} (opset {1}) with these input types"),
]


def concise(message: str) -> str:
    """The message rewritten when it matches a known runtime failure; otherwise unchanged."""
    for pattern, template in _RULES:
        m = pattern.search(message)
        if m:
            return template.format(*(g.rstrip(".") for g in m.groups()))
    return message


def describe_signal(signum: int) -> str:
    """'SIGSEGV (segmentation fault)'; SIGKILL that we did not send is most often the kernel's OOM killer."""
    try:
        sig = signal.Signals(signum)
    except ValueError:
        return f"signal {signum}"
    if sig == signal.SIGKILL:
        return "SIGKILL (killed from outside: often the system's out-of-memory killer)"
    text = signal.strsignal(sig) or ""
    return f"{sig.name} ({text.lower()})" if text else sig.name
