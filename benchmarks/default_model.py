"""The embedded default model: a MobileNetV2-class classifier trained at first use on scikit-learn's digits.

scikit-learn ships the digits images inside its wheel, so there is no download; the 8x8 images are upscaled to
96x96x3 so the network has MobileNet-class cost. Training (10 epochs) takes about a minute on 2 cores and is cached.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from optimizers.artifacts import cache_root

NAME = "mobilenetv2-digits"
INPUT_SIZE = 96
ALPHA = 0.5
EPOCHS = 10
TEST_SAMPLES = 300
DESCRIPTION = (f"MobileNetV2 (alpha {ALPHA}, {INPUT_SIZE}x{INPUT_SIZE}x3 input, logits out) trained by edgebench "
               f"on scikit-learn's digits; accuracy data: {TEST_SAMPLES} held-out labelled digits")


def digits(split: str) -> tuple[np.ndarray, np.ndarray]:
    """Digits as float32 NHWC in [-1, 1] (nearest-neighbour upscaled), and labels; a fixed train/test split."""
    from sklearn.datasets import load_digits

    d = load_digits()
    scale = INPUT_SIZE // 8
    x = d.images.astype(np.float32) / 16.0
    x = np.repeat(np.repeat(x, scale, axis=1), scale, axis=2)[..., None]
    x = np.repeat(x, 3, axis=-1) * 2.0 - 1.0
    idx = np.random.default_rng(0).permutation(len(x))
    chosen = idx[:-TEST_SAMPLES] if split == "train" else idx[-TEST_SAMPLES:]
    return np.ascontiguousarray(x[chosen]), d.target[chosen].astype(np.int64)


def model_path() -> Path:
    return cache_root() / "default-model" / f"{NAME}-v2.keras"


def ensure_default_model(epochs: int = EPOCHS) -> Path:
    """Return the cached default model, training it first if needed (deterministic seed)."""
    path = model_path()
    if path.is_file():
        return path
    import os
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    keras.utils.set_random_seed(0)
    x, y = digits("train")
    model = keras.applications.MobileNetV2(input_shape=(INPUT_SIZE, INPUT_SIZE, 3), alpha=ALPHA, weights=None,
                                           classes=10, classifier_activation=None, name=NAME.replace("-", "_"))
    # Keras' MobileNetV2 uses BN momentum 0.999: too slow for a few hundred steps, its moving statistics would
    # stay near their initial values and the exported model would predict one class.
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = 0.9
    # Cosine decay to zero: the last epochs settle the weights, so the logits have clear margins and a
    # quantized variant's top-1 flips measure quantization, not an unconverged model (fp32 top-1 0.92 -> 0.98).
    steps = epochs * -(-len(x) // 64)
    model.compile(optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(2e-3, steps)),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, y, batch_size=64, epochs=epochs, verbose=0)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.keras")
    model.save(tmp)
    tmp.replace(path)
    return path
