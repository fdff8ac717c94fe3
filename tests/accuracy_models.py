"""Stand-ins for published landmark models (issue 27): 63 landmark coordinates in pixels and a 1-element sigmoid
score, built in Keras with fixed random weights; and folders of images for `--data DIR`."""
from __future__ import annotations

from pathlib import Path

import numpy as np


def landmark_model(score_bias: float, rescaling: bool, seed: int = 0):
    """16x16x3 in; `landmarks` [63] (pixels, 0-200) and `score` [1] (a sigmoid whose bias sets where it sits: -8 is
    a presence score near 0, 0 one around the 0.5 threshold). With `rescaling` it takes raw 0-255 pixels."""
    import keras

    keras.utils.set_random_seed(seed)
    inp = keras.Input((16, 16, 3), name="image")
    x = keras.layers.Rescaling(1 / 127.5, offset=-1.0)(inp) if rescaling else inp
    x = keras.layers.Conv2D(8, 3, strides=2, padding="same", activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    lm = keras.layers.Dense(63, name="landmarks_dense")(x)
    lm = keras.layers.Rescaling(100.0, offset=100.0, name="landmarks")(lm)
    score = keras.layers.Dense(1, activation="sigmoid", bias_initializer=keras.initializers.Constant(score_bias),
                               kernel_initializer=keras.initializers.RandomNormal(stddev=2.0), name="score")(x)
    return keras.Model(inp, {"landmarks": lm, "score": score}, name="landmarks")


def save_keras(model, path: Path) -> Path:
    model.save(path)
    return path


def to_tflite(model, path: Path) -> Path:
    import tensorflow as tf

    sm = path.with_suffix(".savedmodel")
    model.export(str(sm), verbose=False)
    path.write_bytes(tf.lite.TFLiteConverter.from_saved_model(str(sm)).convert())
    return path


def image_folder(root: Path, classes: tuple[str, ...] = ("cat", "dog"), per_class: int = 6, size: int = 20) -> Path:
    """PNG and JPEG images of random pixels in one sub-folder per class (the ImageFolder convention)."""
    from PIL import Image

    rng = np.random.default_rng(3)
    for k in classes:
        (root / k).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            pixels = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(root / k / f"{i}.{'png' if i % 2 else 'jpg'}")
    return root


def landmark_data(path: Path, n: int = 32, raw: bool = False) -> Path:
    rng = np.random.default_rng(4)
    x = rng.uniform(0, 255, (n, 16, 16, 3)) if raw else rng.uniform(-1, 1, (n, 16, 16, 3))
    np.savez(path, image=x.astype(np.float32))
    return path
