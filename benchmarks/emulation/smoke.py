"""The last step of setup: the target's Python imports numpy and both runtimes under emulation, and says which."""
from __future__ import annotations

from pathlib import Path

from edgebench.benchmarks.emulation.emulate import EmulationError, run_emulated
from edgebench.benchmarks.emulation.environment import TargetEnv, TargetError

SMOKE_CPU = "cortex-a72"  # the oldest CPU model a profile is likely to name: plain ARMv8.0 NEON
SMOKE_TIMEOUT = 300.0
_SCRIPT = """
import json, platform, sys
sys.path.insert(0, sys.argv[1])
import numpy, onnxruntime
from ai_edge_litert import interpreter
print("EDGEBENCH_TARGET_RESULT " + json.dumps({"machine": platform.machine(), "python": platform.python_version(),
      "numpy": numpy.__version__, "onnxruntime": onnxruntime.__version__}), flush=True)
"""


def smoke_test(env: TargetEnv, qemu: Path) -> dict[str, str]:
    """What the target's interpreter reports about itself; TargetError when it cannot import the runtimes."""
    try:
        return run_emulated(env, qemu, SMOKE_CPU, ["-c", _SCRIPT, str(env.site)], SMOKE_TIMEOUT)
    except EmulationError as exc:
        raise TargetError(f"the {env.name} environment does not work under {qemu.name}: {exc}") from None
