"""One onnx2tf conversion, with its output collected: in the converter child for the installed onnx2tf, or as
`python -m edgebench.optimizers.onnx2tf_child REQUEST` for a privately installed release (edgebench.optimizers.
onnx2tf_env), which prints `EDGEBENCH-ONNX2TF {"ok": ..., "reason": ...}` as its last line.

A request: {"model": static .onnx, "out": SavedModel folder, "work": working directory, "keep_layout": [...],
"options": {onnx2tf.convert keyword: value}, "node_names": {converter node name: the model's own}}.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import sys
from typing import Any

# onnx2tf reads this file from the working directory before it would download it from GitHub
SAMPLE_FILE = "calibration_image_sample_data_20x128x128x3_float32.npy"
MARKER = "EDGEBENCH-ONNX2TF "


def convert_here(request: dict[str, Any]) -> tuple[bool, str, str]:
    """(ok, one-line reason when not, the full log)."""
    import numpy as np
    import onnx2tf

    from edgebench.optimizers.converter_log import first_error

    work = request["work"]
    sample = np.random.default_rng(0).uniform(0, 1, (20, 128, 128, 3)).astype(np.float32)
    np.save(os.path.join(work, SAMPLE_FILE), sample)
    log, cwd = io.StringIO(), os.getcwd()
    try:
        os.chdir(work)
        with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
            onnx2tf.convert(input_onnx_file_path=request["model"], output_folder_path=request["out"],
                            output_signaturedefs=True, not_use_onnxsim=True,
                            keep_ncw_or_nchw_or_ncdhw_input_names=request["keep_layout"] or None,
                            verbosity="error", **request.get("options", {}))
    except (Exception, SystemExit) as exc:  # onnx2tf ends with sys.exit(1) on some models it cannot take
        return False, first_error(exc, log.getvalue(), request.get("node_names")), log.getvalue()
    finally:
        os.chdir(cwd)
    if not os.path.isfile(os.path.join(request["out"], "saved_model.pb")):
        return False, "onnx2tf wrote no SavedModel", log.getvalue()
    return True, "", log.getvalue()


def main() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    ok, reason, log = convert_here(json.loads(sys.argv[1]))
    sys.stderr.write(log)
    sys.stdout.write("\n" + MARKER + json.dumps({"ok": ok, "reason": reason}) + "\n")


if __name__ == "__main__":
    main()
