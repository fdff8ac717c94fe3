"""`bench optimize`: build the profile's variants and write the deployable files plus a manifest; no measuring."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from edgebench.benchmarks.variants.specs import plan_variants
from edgebench.hardware_profiles import Profile
from edgebench.results import __version__


def optimize_model(model: str | None, profile: Profile, out: Path, variants: list[str] | None = None,
                   data: str | None = None, reporter: Any = None, timeout: float = 600.0) -> dict[str, Any]:
    """Returns the manifest written to out/manifest.json."""
    import tempfile

    from edgebench.benchmarks.run.inputs import dataset_for, resolve_source
    from edgebench.benchmarks.run.options import SilentReporter, item_begin, item_done
    from edgebench.benchmarks.variants.converter_parent import ConverterProcess, source_specs
    from edgebench.benchmarks.variants.lanes import build_in_lanes
    from edgebench.optimizers.manifest import deploy_copy, variant_entry, write_manifest

    reporter = reporter or SilentReporter()
    specs_to_build = plan_variants(variants, profile)
    source, kind = resolve_source(model)
    reporter.stage(f"reading {source.name} ({source.format})")
    # TensorFlow and the passes run in a child process: a crashing converter costs its own variant only
    converter = ConverterProcess(timeout)
    _, io = source_specs(source, converter, timeout)
    dataset = dataset_for(data, kind, io)
    reporter.stage("converting", total=len(specs_to_build))
    out.mkdir(parents=True, exist_ok=True)
    entries = []
    with tempfile.TemporaryDirectory(prefix="edgebench-optimize-") as work:
        built = build_in_lanes(converter, specs_to_build, source, profile, dataset, [s["name"] for s in io],
                               Path(work), lambda name: item_begin(reporter, f"building {name}"),
                               lambda name, status: item_done(reporter, f"building {name}", status))
    converter.close()
    for b in built:
        file = deploy_copy(b.artifact, out, b.spec.name) if b.artifact else None
        entries.append(variant_entry(b.spec.name, b.spec.runtime, b.spec.summary, b.artifact, file, b.lineage,
                                     b.error, b.skipped))
    doc = {
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "tool": {"name": "edgebench", "version": __version__},
        "profile": {"name": profile.name, "source": profile.source, "target_arch": profile.target_arch,
                    "quantization": profile.quantization, "optimization": profile.optimization},
        "model": dict(source.to_dict(), kind=kind, inputs=io),
        "calibration_data": dataset.to_dict(),
        "notes": [converter.conversion_summary()],
        "variants": entries,
    }
    write_manifest(out, doc)
    return doc
