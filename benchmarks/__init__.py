"""edgebench: measure a model on LiteRT and ONNX Runtime for the CPU you deploy to."""
__version__ = "0.1.0"
