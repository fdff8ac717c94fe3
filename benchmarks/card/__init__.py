"""The deployment card (`bench card`): will this ONNX file load in a given ML.NET / ONNX Runtime, and how to feed it.

Static analysis and data only (kernel registries, I/O contract, pre-processing, load tests); reports/card*.py turn
the card.json written here into markdown and HTML.
"""
