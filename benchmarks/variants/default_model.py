"""The embedded default model: MobileNetV2 1.0 at 160x160, trained by edgebench on scikit-learn's digits.

scikit-learn ships the digits images inside its wheel, so there is no download. The 8x8 images are upscaled to
160x160x3 so the network is a standard published MobileNetV2 configuration (1.0, 160): int8 gains grow with the work
per layer, and a toy-sized default (alpha 0.5 at 96 px) would understate them (docs/PERFORMANCE.md). `train` is the
recipe; its result ships in benchmarks/variants/models/.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

NAME = "mobilenetv2-digits"
VERSION = 3  # part of the file name: a retrained model is a new file, never silently the same name
INPUT_SIZE = 160
ALPHA = 1.0
EPOCHS = 8
TEST_SAMPLES = 300
DESCRIPTION = (f"MobileNetV2 (alpha {ALPHA}, {INPUT_SIZE}x{INPUT_SIZE}x3 input, logits out) trained by edgebench "
               f"on scikit-learn's digits; accuracy data: {TEST_SAMPLES} held-out labelled digits")


def digits(split: str, limit: int | None = None, native: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Digits as float32 NHWC in [-1, 1] (nearest-neighbour upscaled), and labels; a fixed train/test split.

    `limit` takes the first samples of the split before upscaling (160x160x3 floats are 300 kB per sample);
    `native` keeps the 8x8 size.
    """
    images, target = load_digits_file()
    idx = np.random.default_rng(0).permutation(len(images))
    chosen = idx[:-TEST_SAMPLES] if split == "train" else idx[-TEST_SAMPLES:]
    chosen = chosen[:limit]
    scale = 1 if native else INPUT_SIZE // 8
    x = images[chosen].astype(np.float32) / 16.0 * 2.0 - 1.0
    x = np.repeat(np.repeat(x, scale, axis=1), scale, axis=2)[..., None]
    return np.ascontiguousarray(np.repeat(x, 3, axis=-1)), target[chosen].astype(np.int64)


def load_digits_file() -> tuple[np.ndarray, np.ndarray]:
    """(images 8x8, labels) of scikit-learn's digits, read from the data file scikit-learn ships, as its
    load_digits does, without importing scikit-learn (seconds of a run's start, for a 64-column CSV)."""
    import gzip
    import importlib.util

    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("scikit-learn is not installed: reinstall edgebench")
    path = Path(list(spec.submodule_search_locations)[0]) / "datasets" / "data" / "digits.csv.gz"
    with gzip.open(path, "rt") as fh:
        data = np.loadtxt(fh, delimiter=",")
    return data[:, :-1].reshape(-1, 8, 8), data[:, -1].astype(int)


def model_path() -> Path:
    """The trained model ships inside the package: every machine benchmarks the same file (same sha256), so runs
    of the default model on several machines compare like with like, and first use costs no training."""
    return Path(__file__).resolve().parent / "models" / f"{NAME}-v{VERSION}.keras"


def ensure_default_model() -> Path:
    path = model_path()
    if not path.is_file():
        from edgebench.results.errors import UserError
        raise UserError(f"the packaged default model is missing ({path}): reinstall edgebench, or pass your own MODEL")
    return path


def train(path: Path, epochs: int = EPOCHS, size: int = INPUT_SIZE, alpha: float = ALPHA) -> None:
    """The recipe that made the packaged model (8 epochs, with oneDNN; fp32 top-1 0.983 on the held-out digits)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    # oneDNN trains this size several times faster; only the reference outputs need TF's standard kernels
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
    import keras

    keras.utils.set_random_seed(0)
    net = keras.applications.MobileNetV2(input_shape=(size, size, 3), alpha=alpha, weights=None,
                                         classes=10, classifier_activation=None, name=NAME.replace("-", "_"))
    # Keras' MobileNetV2 uses BN momentum 0.999: too slow for a few hundred steps, its moving statistics would
    # stay near their initial values and the exported model would predict one class.
    for layer in net.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = 0.9
    # Train on the 8x8 digits and upscale inside the graph, exactly as digits() does: 1.5k upscaled images would
    # be 460 MB of floats that Keras copies again; the saved model is `net`, which takes the upscaled images.
    x, y = digits("train", native=True)
    model = keras.Sequential([keras.Input(x.shape[1:]), keras.layers.UpSampling2D(size // 8), net])
    # Cosine decay to zero: the last epochs settle the weights, so the logits have clear margins and a
    # quantized variant's top-1 flips measure quantization, not an unconverged model.
    steps = epochs * -(-len(x) // 64)
    model.compile(optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(2e-3, steps)),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, y, batch_size=64, epochs=epochs, verbose=0)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp.keras")  # an interrupted save leaves no half-written model
    net.save(tmp)
    tmp.replace(path)


if __name__ == "__main__":
    # maintainers only: python -m edgebench.benchmarks.variants.default_model OUT.keras [EPOCHS]; bump VERSION when the result changes
    train(Path(sys.argv[1]), *(int(a) for a in sys.argv[2:3]))
