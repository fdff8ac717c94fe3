"""The C# a .NET developer pastes, generated from a card's data: package references, input/output classes,
the ApplyOnnxModel pipeline (with the image transforms of the pre-processing recipe), and plain InferenceSession."""
from __future__ import annotations

import re
from typing import Any

_IMAGE_DEFAULT = "Fill"  # a stretch like the model's training resize; ML.NET's default IsoCrop center-crops


def _ident(name: str, used: set[str]) -> str:
    base = re.sub(r"\W+", "_", name).strip("_") or "Value"
    base = base[0].upper() + base[1:]
    if base[0].isdigit():
        base = "T" + base
    out, i = base, 2
    while out in used:
        out, i = f"{base}{i}", i + 1
    used.add(out)
    return out


def _cs_string(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _dims(t: dict[str, Any]) -> list[int]:
    return [d if isinstance(d, int) and d > 0 else 1 for d in t["ml_shape"]]


def mlnet_row(card: dict[str, Any]) -> dict[str, Any] | None:
    """The ML.NET release the C# targets: the newest that passes (its packages are the current ones)."""
    rows = [r for r in card["rows"] if r["key"].startswith("mlnet-") and r.get("mlnet") and r["ok"]]
    return rows[-1] if rows else None


def _classes(card: dict[str, Any]) -> list[str]:
    used: set[str] = set()
    lines = []
    for cls, tensors in (("ModelInput", card["io"]["inputs"]), ("ModelOutput", card["io"]["outputs"])):
        lines.append(f"public class {cls}\n{{")
        for t in tensors:
            clr = t["clr_type"] or "float /* " + t["dtype"] + " is not supported by ML.NET */"
            lines.append(f"    [ColumnName({_cs_string(t['name'])})]")
            lines.append(f"    [VectorType({', '.join(str(d) for d in _dims(t))})]")
            lines.append(f"    public {clr}[] {_ident(t['name'], used)} {{ get; set; }}")
        lines.append("}")
    return lines


def _shape_dictionary(card: dict[str, Any]) -> str | None:
    need = [t for t in card["io"]["inputs"] if t["needs_shape_dictionary"]]
    if not need:
        return None
    items = ", ".join(f"[{_cs_string(t['name'])}] = new[] {{ {', '.join(str(d) for d in _dims(t))} }}" for t in need)
    return f"new Dictionary<string, int[]> {{ {items} }}"


def _image_steps(card: dict[str, Any]) -> list[str]:
    pre = card.get("preprocess") or {}
    ml = pre.get("mlnet")
    inputs = card["io"]["inputs"]
    if not ml or not ml.get("expressible") or len(inputs) != 1 or not (pre.get("image") or {}).get("width"):
        return []
    img, name = pre["image"], inputs[0]["name"]
    return [
        'mlContext.Transforms.LoadImages("image", imageFolder: "", inputColumnName: nameof(ImageInput.ImagePath))',
        f'    .Append(mlContext.Transforms.ResizeImages("image", imageWidth: {img["width"]}, '
        f'imageHeight: {img["height"]}, resizing: ImageResizingEstimator.ResizingKind.{_IMAGE_DEFAULT}))',
        f'    .Append(mlContext.Transforms.ExtractPixels({_cs_string(name)}, "image", '
        f'interleavePixelColors: {str(ml["interleavePixelColors"]).lower()}, offsetImage: {ml["offsetImage"]}, '
        f'scaleImage: {ml["scaleImage"]}, outputAsFloatArray: true))',
    ]


def csharp(card: dict[str, Any]) -> dict[str, str]:
    """{"packages": ..., "mlnet": ..., "session": ...}: three snippets."""
    row = mlnet_row(card) or next((r for r in card["rows"] if r.get("mlnet")), None)
    mlv, ortv = (row["mlnet"], row["ort"]) if row else ("5.0.0", "1.23.2")
    image = _image_steps(card)
    pkgs = [f'<PackageReference Include="Microsoft.ML" Version="{mlv}" />',
            f'<PackageReference Include="Microsoft.ML.OnnxTransformer" Version="{mlv}" />',
            '<!-- the native runtime: without it, "Unable to find an entry point named \'OrtGetApiBase\'" -->',
            f'<PackageReference Include="Microsoft.ML.OnnxRuntime" Version="{ortv}" />']
    if image:
        pkgs.append(f'<PackageReference Include="Microsoft.ML.ImageAnalytics" Version="{mlv}" />')
    ins = ", ".join(_cs_string(t["name"]) for t in card["io"]["inputs"])
    outs = ", ".join(_cs_string(t["name"]) for t in card["io"]["outputs"])
    shape = _shape_dictionary(card)
    apply = (f"mlContext.Transforms.ApplyOnnxModel(outputColumnNames: new[] {{ {outs} }}, "
             f"inputColumnNames: new[] {{ {ins} }}, modelFile: {_cs_string(card['file'])}"
             + (f", shapeDictionary: {shape}" if shape else "") + ")")
    body = ["using Microsoft.ML;", "using Microsoft.ML.Data;"] + (["using Microsoft.ML.Transforms.Image;"] if image
                                                                  else []) + [""] + _classes(card) + [
        "", "var mlContext = new MLContext();"]
    first = "ImageInput" if image else "ModelInput"
    if image:
        at = body.index("var mlContext = new MLContext();")
        body[at:at] = [
            "public class ImageInput { public string ImagePath { get; set; } = \"\"; }  // raw pixels, 0-255", ""]
        body += [f"var pipeline = {image[0]}", *image[1:], f"    .Append({apply});"]
    else:
        body += [f"var pipeline = {apply};"]
    body += [f"var model = pipeline.Fit(mlContext.Data.LoadFromEnumerable(new List<{first}>()));",
             f"var engine = mlContext.Model.CreatePredictionEngine<{first}, ModelOutput>(model);"]
    return {"packages": "\n".join(pkgs), "mlnet": "\n".join(body), "session": _session(card, ortv)}


def _session(card: dict[str, Any], ortv: str) -> str:
    t = card["io"]["inputs"][0] if card["io"]["inputs"] else None
    if t is None:
        return ""
    clr, dims = t["clr_type"] or "float", _dims(t)
    n = 1
    for d in dims:
        n *= d
    major, minor = (int(x) for x in ortv.split(".")[:2])
    lines = ["using Microsoft.ML.OnnxRuntime;", f'using var session = new InferenceSession({_cs_string(card["file"])});',
             f"var data = new {clr}[{n}];  // {t['layout'] or 'row-major'} {dims}"]
    if (major, minor) >= (1, 16):
        lines += [f"using var input = OrtValue.CreateTensorValueFromMemory(data, new long[] {{ "
                  f"{', '.join(str(d) for d in dims)} }});",
                  f"var inputs = new Dictionary<string, OrtValue> {{ [{_cs_string(t['name'])}] = input }};",
                  "using var runOptions = new RunOptions();",
                  "using var outputs = session.Run(runOptions, inputs, session.OutputNames);",
                  "var result = outputs[0].GetTensorDataAsSpan<float>().ToArray();"]
    else:
        lines += ["using Microsoft.ML.OnnxRuntime.Tensors;",
                  f"var tensor = new DenseTensor<{clr}>(data, new[] {{ {', '.join(str(d) for d in dims)} }});",
                  f"var inputs = new List<NamedOnnxValue> {{ NamedOnnxValue.CreateFromTensor("
                  f"{_cs_string(t['name'])}, tensor) }};",
                  "using var results = session.Run(inputs);",
                  "var result = results.First().AsEnumerable<float>().ToArray();"]
    return "\n".join(lines)
