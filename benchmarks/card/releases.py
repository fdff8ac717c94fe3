"""The rows of the compatibility matrix: ML.NET releases and the onnxruntime each one pins, or a plain onnxruntime.

From dotnet/machinelearning eng/Versions.props of each release. The pin is a minimum: Microsoft.ML.OnnxTransformer
depends only on Microsoft.ML.OnnxRuntime.Managed, so the app adds Microsoft.ML.OnnxRuntime itself and may choose a
newer one.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from edgebench.results.errors import UserError


@dataclass(frozen=True)
class Target:
    key: str  # what --for accepts: mlnet-5.0, onnxruntime-1.18
    label: str  # what the card shows: "ML.NET 5.0.x"
    ort: str  # the onnxruntime version it pins (or names)
    mlnet: str | None = None  # the Microsoft.ML package version for the generated C#

    def to_dict(self) -> dict[str, str | None]:
        return {"key": self.key, "label": self.label, "ort": self.ort, "mlnet": self.mlnet}


MLNET = [
    Target("mlnet-2.0", "ML.NET 2.0.x", "1.10.0", "2.0.1"),
    Target("mlnet-3.0", "ML.NET 3.0.x", "1.14.0", "3.0.1"),
    Target("mlnet-4.0", "ML.NET 4.0.x", "1.18.1", "4.0.3"),
    Target("mlnet-5.0", "ML.NET 5.0.x", "1.23.2", "5.0.0"),
]
# the registries shipped in data/: every pinned version, plus 4.0.0-preview1's pin
SHIPPED_VERSIONS = ["1.10.0", "1.14.0", "1.16.3", "1.18.1", "1.23.2"]
_ORT = re.compile(r"onnxruntime-(\d+)\.(\d+)(?:\.(\d+))?")
_ALIASES = {"mlnet-4.0.x": "mlnet-4.0", "mlnet-5.0.x": "mlnet-5.0", "mlnet-2": "mlnet-2.0", "mlnet-3": "mlnet-3.0",
            "mlnet-4": "mlnet-4.0", "mlnet-5": "mlnet-5.0"}


def known_keys() -> str:
    return ", ".join(t.key for t in MLNET) + ", onnxruntime-X.Y[.Z]"


def parse_target(text: str, installed_ort: str | None = None) -> Target:
    """A --for value as a row; a plain onnxruntime-X.Y means its newest patch we ship, else X.Y.0."""
    key = _ALIASES.get(text.strip().lower(), text.strip().lower())
    for t in MLNET:
        if t.key == key:
            return t
    m = _ORT.fullmatch(key)
    if not m:
        raise UserError(f"unknown target {text!r}: expected one of {known_keys()}")
    major, minor, patch = m.group(1), m.group(2), m.group(3)
    if patch is None:
        same = [v for v in [*SHIPPED_VERSIONS, installed_ort or ""] if v.startswith(f"{major}.{minor}.")]
        version = sorted(same, key=lambda v: int(v.split(".")[2]))[-1] if same else f"{major}.{minor}.0"
    else:
        version = f"{major}.{minor}.{patch}"
    return Target(f"onnxruntime-{version}", f"onnxruntime {version}", version)
