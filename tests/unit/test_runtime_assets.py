"""Unit tests for posekit.models.assets (model lookup) and posekit.models.runtime (LiteRT wrapper)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from posekit.errors import ModelNotFoundError, ValidationError
from posekit.models.assets import ENV_MODEL_DIR, find_model, mediapipe_modules_dir
from posekit.models.runtime import Backend, TFLiteModel

REL = "pose_detection/pose_detection.tflite"


def _fake(root: Path, rel: str = REL) -> Path:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(b"not a real model")
    return p


def test_env_override_is_read_at_call_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _fake(tmp_path)
    monkeypatch.setenv(ENV_MODEL_DIR, str(tmp_path))
    assert find_model(REL) == fake.resolve()
    monkeypatch.delenv(ENV_MODEL_DIR)
    assert find_model(REL) != fake.resolve()  # back to the installed mediapipe copy


def test_explicit_dir_wins_and_flat_layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env_dir, own = tmp_path / "env", tmp_path / "own"
    _fake(env_dir)
    flat = own / "pose_detection.tflite"
    own.mkdir()
    flat.write_bytes(b"x")
    monkeypatch.setenv(ENV_MODEL_DIR, str(env_dir))
    assert find_model(REL, model_dir=own) == flat.resolve()


def test_missing_model_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_MODEL_DIR, str(tmp_path))
    with pytest.raises(ModelNotFoundError) as exc:
        find_model("nothing/absent.tflite", model_dir=tmp_path / "given")
    msg = str(exc.value)
    assert "absent.tflite" in msg
    assert str(tmp_path / "given") in msg and str(tmp_path) in msg
    assert "pip install mediapipe==0.10.21" in msg and ENV_MODEL_DIR in msg


def test_default_lookup_finds_mediapipe_models_without_importing_it() -> None:
    code = (
        "import sys; from posekit.models.assets import find_model; "
        f"p = find_model('{REL}'); assert p.is_file(), p; "
        "assert 'mediapipe' not in sys.modules, 'mediapipe was imported'; print(p)"
    )
    env = {k: v for k, v in __import__("os").environ.items() if k != ENV_MODEL_DIR}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith(REL)
    d = mediapipe_modules_dir()
    assert d is not None and (d / REL).is_file()


def test_tflite_model_real_invoke_shapes() -> None:
    det = TFLiteModel(find_model(REL))
    assert det.input_shape == (1, 224, 224, 3)
    out = det.run(np.zeros((224, 224, 3), np.float32))  # batch axis added
    assert [o.shape for o in out] == [(1, 2254, 12), (1, 2254, 1)]
    assert all(o.dtype == np.float32 and np.isfinite(o).all() for o in out)
    out[0][...] = 123.0  # copies: the interpreter's buffer is untouched
    assert not np.array_equal(det.run(np.zeros((1, 224, 224, 3), np.float32))[0], out[0])

    lmk = TFLiteModel(find_model("pose_landmark/pose_landmark_full.tflite"), threads=1)
    out = lmk.run(np.full((1, 256, 256, 3), 0.5, np.float32))
    assert [o.shape for o in out] == [(1, 195), (1, 1), (1, 256, 256, 1), (1, 64, 64, 39), (1, 117)]
    assert [d["name"] for d in lmk.output_details] == ["Identity", "Identity_1", "Identity_2", "Identity_3", "Identity_4"]


def test_pruned_landmark_model_is_bit_identical_and_drops_segmentation() -> None:
    from posekit.models.prune import output_names, prune_outputs

    path = find_model("pose_landmark/pose_landmark_full.tflite")
    full = TFLiteModel(path)
    keep = ["Identity_4", "Identity", "Identity_3", "Identity_1"]  # any order, returned in that order
    pruned = TFLiteModel(path, outputs=keep)
    assert pruned.pruned and not full.pruned
    assert [d["name"] for d in pruned.output_details] == keep
    rng = np.random.default_rng(3)
    for _ in range(3):  # random "images" and a flat one: every kept output equal to the bit
        x = rng.random((1, 256, 256, 3), dtype=np.float32)
        a = dict(zip([d["name"] for d in full.output_details], full.run(x)))
        b = pruned.run(x)
        for name, got in zip(keep, b):
            assert np.array_equal(a[name], got), name
    content = prune_outputs(path.read_bytes(), keep)
    assert output_names(content) == keep
    from ai_edge_litert import schema_py_generated as schema

    n_full = len(schema.ModelT.InitFromPackedBuf(path.read_bytes(), 0).subgraphs[0].operators)
    n_pruned = len(schema.ModelT.InitFromPackedBuf(content, 0).subgraphs[0].operators)
    assert n_full == 332 and n_pruned == 286  # the segmentation decoder: 46 operators
    with pytest.raises(ValidationError, match="no output named"):
        TFLiteModel(path, outputs=["Identity", "mask"])
    with pytest.raises(ValidationError, match="at least one"):
        prune_outputs(path.read_bytes(), [])


def test_tflite_model_bad_input_and_missing_file(tmp_path: Path) -> None:
    det = TFLiteModel(find_model(REL))
    with pytest.raises(ValidationError, match="224, 224, 3"):
        det.run(np.zeros((1, 100, 100, 3), np.float32))
    with pytest.raises(ModelNotFoundError):
        TFLiteModel(tmp_path / "missing.tflite")
    with pytest.raises(ValidationError):
        TFLiteModel(find_model(REL), threads=0)


def test_backend_protocol_is_structural() -> None:
    class Toy:
        def preprocess(self, image, region):  # noqa: ANN001, ANN201
            return image, None

        def infer(self, tensor):  # noqa: ANN001, ANN201
            return [tensor]

        def postprocess(self, outputs, context):  # noqa: ANN001, ANN201
            return outputs[0]

    assert isinstance(Toy(), Backend)
    assert not isinstance(object(), Backend)
