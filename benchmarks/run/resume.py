"""`bench run --resume DIR`: finish an interrupted run, measuring only what DIR does not hold yet.

results.json carries `run_options`, everything needed to plan the same matrix again (model, variants, threads,
batches, data, mode, profile as it was read). A record with status ok is kept as it is, with its raw pyperf samples
(work/<benchmark>.pyperf.json, written before the record); a failed record is dropped and tried again. The model
and data files must be unchanged, and the host and its packages the same: measurements from two machines or two
runtime versions must never mix in one run.
"""
from __future__ import annotations

import argparse
import fcntl
import os
import signal
import uuid
from pathlib import Path
from typing import Any, TextIO

from edgebench.benchmarks.run.options import RunOptions
from edgebench.benchmarks.run.prior import Prior, load_prior
from edgebench.benchmarks.run.writer import RunWriter
from edgebench.optimizers.artifacts import sha256_path
from edgebench.results.errors import UserError

RUN_ID_ENV = "EDGEBENCH_RUN_ID"


def new_run_id() -> str:
    return uuid.uuid4().hex[:16]


def run_options_record(opts: RunOptions, variants: list[str], threads: list[int], batches: list[int]) -> dict[str, Any]:
    data = Path(opts.data).resolve() if opts.data else None
    return {"run_id": opts.run_id, "model": str(Path(opts.model).resolve()) if opts.model else None,
            "variants": list(variants), "threads": list(threads), "batches": list(batches),
            "data": str(data) if data else None, "data_sha256": sha256_path(data) if data else None,
            "mode": opts.mode, "timeout": opts.timeout, "op_profile": bool(getattr(opts, "op_profile", False)),
            "exhaustive": bool(opts.exhaustive), "cluster": opts.cluster, "input_shapes": opts.input_shapes,
            "vocab_size": opts.vocab_size, "output_kinds": opts.output_kinds, "preprocess": opts.preprocess,
            "mixed": bool(getattr(opts, "mixed", False))}


def options_from_run(run_dir: str | Path, timeout: float | None) -> RunOptions:
    """The RunOptions of the interrupted run in DIR, with `resume` set; checks model and data are unchanged."""
    from edgebench.hardware_profiles import ProfileError, parse_profile

    options, prior = load_prior(run_dir)
    doc = prior.doc
    raw = {k: v for k, v in doc.get("profile", {}).items() if k != "source"}
    try:
        profile = parse_profile(raw, str(doc.get("profile", {}).get("source", "results.json")))
    except ProfileError as exc:
        raise UserError(f"cannot resume {run_dir}: the stored profile is invalid: {exc}") from None
    _same_file(options.get("model"), doc.get("model", {}).get("sha256"), "model", run_dir)
    _same_file(options.get("data"), options.get("data_sha256"), "data file", run_dir)
    return RunOptions(profile=profile, out=Path(run_dir), model=options.get("model"), threads=options["threads"],
                      batches=options["batches"], variants=options["variants"], data=options.get("data"),
                      mode=options["mode"], timeout=timeout or float(options.get("timeout") or 600.0),
                      run_id=str(options.get("run_id") or new_run_id()), resume=prior,
                      op_profile=bool(options.get("op_profile", False)),
                      # a run from before adaptive sampling measured everything in full: finish it the same way
                      exhaustive=bool(options.get("exhaustive", True)), cluster=options.get("cluster"),
                      input_shapes=options.get("input_shapes"), vocab_size=options.get("vocab_size"),
                      output_kinds=options.get("output_kinds"), preprocess=options.get("preprocess"),
                      mixed=bool(options.get("mixed", False)))


def _same_file(path: str | None, sha: str | None, what: str, run_dir: str | Path) -> None:
    if not path:
        return
    if not Path(path).exists():
        raise UserError(f"cannot resume {run_dir}: the {what} {path} is gone")
    if sha and sha256_path(path) != sha:
        raise UserError(f"cannot resume {run_dir}: the {what} {path} changed since the run started; start a new run")


def seed(opts: RunOptions, doc: dict[str, Any], writer: RunWriter) -> None:
    """Carry the earlier attempts' ok records and raw samples into this attempt's documents."""
    prior: Prior | None = opts.resume
    if prior is None:
        return
    old = prior.doc
    host, old_host = doc.get("host", {}), old.get("host", {})
    if old_host.get("host_id") != host.get("host_id"):
        raise UserError(f"cannot resume {prior.run_dir}: it was measured on another machine "
                        f"({old_host.get('hostname')}, {old_host.get('cpu_model')}); start a new run here")
    if old.get("model", {}).get("sha256") != doc["model"].get("sha256"):  # e.g. the default model was retrained
        raise UserError(f"cannot resume {prior.run_dir}: the model is not the one it measured (sha256 differs); "
                        "start a new run")
    changed = sorted(k for k in set(old_host.get("packages", {})) | set(host.get("packages", {}))
                     if old_host.get("packages", {}).get(k) != host.get("packages", {}).get(k))
    if changed:
        raise UserError(f"cannot resume {prior.run_dir}: package versions changed since it started "
                        f"({', '.join(changed)}); start a new run")
    doc["created"] = old.get("created", doc["created"])
    doc["resumed"] = [*old.get("resumed", []), _now()]
    doc["notes"].extend(prior.notes)
    if old.get("op_profiles"):
        doc["op_profiles"] = dict(old["op_profiles"])
    for key, rec in prior.done.items():
        doc["results"].append(rec)
        writer.pyperf_files.append(prior.samples[key])


def _now() -> str:
    import datetime as dt
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


# --- one writer per run directory, and no leftovers of a killed one -----------------------------------------------

def lock_run_dir(run_dir: Path) -> TextIO:
    """Hold an exclusive lock on DIR for this process's life; a second `bench run` on DIR is refused."""
    run_dir.mkdir(parents=True, exist_ok=True)
    fh = open(run_dir / ".lock", "a+", encoding="utf-8")
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        fh.seek(0)
        holder = fh.read().strip() or "?"
        fh.close()
        raise UserError(f"{run_dir} is in use by another bench run (pid {holder}); wait for it to finish") from None
    fh.seek(0)
    fh.truncate()
    fh.write(str(os.getpid()))
    fh.flush()
    return fh


def stop_leftovers(run_id: str) -> int:
    """SIGKILL processes still working for an earlier attempt of this run (they carry its EDGEBENCH_RUN_ID).

    kill -9 of `bench` kills its children (they die with their parent), but not what they started, such as a
    tf2onnx converter: it would go on writing into the cache and compete for the CPU with the resumed run.
    """
    if not run_id or not os.path.isdir("/proc"):
        return 0
    needle = f"{RUN_ID_ENV}={run_id}".encode() + b"\0"
    mine = {os.getpid(), os.getppid()}
    stopped = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) in mine:
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as fh:
                env = fh.read()
        except OSError:
            continue
        if b"\0" + needle in b"\0" + env:
            try:
                os.kill(int(entry), signal.SIGKILL)
                stopped += 1
            except OSError:
                pass
    return stopped


# flags that choose what a run measures: with --resume they come from DIR, so giving them again is a conflict
_PLAN_FLAGS = {"model": "MODEL", "profile": "--profile", "threads": "--threads", "batch": "--batch",
               "variants": "--variants", "data": "--data", "out": "--out", "fast": "--fast", "rigorous": "--rigorous",
               "op_profile": "--op-profile", "exhaustive": "--exhaustive", "input_shape": "--input-shape",
               "vocab_size": "--vocab-size", "objective": "--objective"}


def check_resume_flags(args: argparse.Namespace) -> None:
    given = [flag for attr, flag in _PLAN_FLAGS.items() if getattr(args, attr, None)]
    if given:
        raise UserError(f"--resume DIR re-uses the options the run started with; drop {', '.join(given)} "
                        "(only --timeout and how it is shown, --json, --wide, --quiet, may change)")
