"""The fleet view: the same benchmarks side by side, one column per machine that timed them.

A cluster run (bench run --cluster) times each record on a Ray node and says which in its measured_on; runs of
several machines merged into one report line up here by benchmark. Data only: html.py renders it.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from edgebench.reports.fields import dig, text
from edgebench.reports.rundata import RunData
from edgebench.reports.terminal.wide_table import variant_label
from edgebench.results.record import Record
from edgebench.results.runtimes import runtime_name
from edgebench.results.selection import batch_of, is_ok, median_ms, threads_of

Row = tuple[str, str, int, int]  # runtime, variant [setting], threads, batch


@dataclass
class MachineMatrix:
    machines: list[str]  # column headers: "profile on hostname node-ip (arch, target|HOST)"
    rows: list[tuple[Row, dict[str, float]]]  # per benchmark: median ms by machine


def machine_of(rec: Record, doc: dict[str, Any]) -> str:
    """Which machine timed a record: its host name, and the Ray node's address for a cluster run (a record that does
    not say was timed where its run ran)."""
    where = dig(rec, "measured_on") or dig(doc, "host") or {}
    name = text(where.get("hostname"), "?")
    ip = where.get("node_ip")
    scope = "HOST" if rec.get("timing_scope") == "host" else "target"
    return f"{name}{' ' + text(ip) if ip else ''} ({text(where.get('arch'), '?')}, {scope})"


def machine_matrix(runs: Sequence[RunData]) -> MachineMatrix | None:
    """The ok records of every run by benchmark, one column per (profile, machine); None when one machine timed
    everything."""
    machines: list[str] = []
    hosts: set[str] = set()
    by_row: dict[Row, dict[str, float]] = {}
    for run in runs:
        profile = text(dig(run.doc, "profile", "name"), "?")
        for rec in run.records:
            median = median_ms(rec)
            if not is_ok(rec) or median is None:
                continue
            machine = machine_of(rec, run.doc)
            hosts.add(machine.rsplit(",", 1)[0])  # the machine, whatever the profile's target
            machine = f"{profile} on {machine}"
            if machine not in machines:
                machines.append(machine)
            row = (runtime_name(rec.get("runtime")), variant_label(rec), threads_of(rec), batch_of(rec))
            by_row.setdefault(row, {})[machine] = median
    if len(hosts) < 2:  # one machine, however many profiles: the records table says it all
        return None
    return MachineMatrix(sorted(machines), sorted(by_row.items()))
