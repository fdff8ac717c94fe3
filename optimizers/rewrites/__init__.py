"""Exactly equivalent ONNX graph rewrites that close runtime gaps (issue 13): a library of named rules
(edgebench.optimizers.rewrites.rules), the pass that applies them and proves the result equal to the source on data
(edgebench.optimizers.rewrites.apply), and the proof itself (edgebench.optimizers.rewrites.proof)."""
