"""LiteRT (TensorFlow Lite) model runtime and the small backend protocol models implement.

A backend keeps its three steps apart (rtmlib's split): ``preprocess`` (image → input tensor plus whatever
is needed to map results back), ``infer`` (tensor → raw outputs) and ``postprocess`` (raw outputs → results
in image pixels). ONNX Runtime backends can implement the same protocol later without touching callers.
"""

from __future__ import annotations

from pathlib import Path
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from posekit.errors import ModelNotFoundError, ValidationError

__all__ = ["TFLiteModel", "Backend"]


class TFLiteModel:
    """One LiteRT interpreter, tensors allocated once, run with float32 inputs.

    Args:
        model_path: path to a ``.tflite`` file.
        threads: CPU threads for the interpreter (default 1).
        outputs: names of the outputs to compute, in the order :meth:`run` and :meth:`output` return them;
            operators that feed only the other outputs are removed from the in-memory copy of the model
            (see :mod:`posekit.models.prune`; kept outputs are bit-identical). ``None`` keeps all.

    Attributes:
        path: the model file.
        pruned: whether the interpreter runs a pruned copy (``False`` when ``outputs`` is ``None``).
        input_shape: shape of the single input, e.g. ``(1, 256, 256, 3)``.
        output_details: LiteRT output descriptions in the model's output order (name, shape, index, dtype).
    """

    def __init__(self, model_path: str | Path, threads: int = 1, outputs: Sequence[str] | None = None) -> None:
        from ai_edge_litert.interpreter import Interpreter  # deferred: importing LiteRT costs ~0.1 s

        self.path = Path(model_path)
        if not self.path.is_file():
            raise ModelNotFoundError(f"{self.path}: model file does not exist")
        if threads < 1:
            raise ValidationError(f"Expected threads >= 1, but got {threads}")
        self.threads = int(threads)
        self.pruned = outputs is not None
        if outputs is None:
            self._interp = Interpreter(model_path=str(self.path), num_threads=self.threads)
        else:
            from posekit.models.prune import prune_outputs

            try:
                content = prune_outputs(self.path.read_bytes(), list(outputs))
            except ValidationError as exc:
                raise ValidationError(f"{self.path}: {exc}") from None
            self._interp = Interpreter(model_content=content, num_threads=self.threads)
        self._interp.allocate_tensors()
        inputs = self._interp.get_input_details()
        if len(inputs) != 1:
            raise ValidationError(f"{self.path}: expected a model with one input, but it has {len(inputs)}")
        self._input_index = int(inputs[0]["index"])
        self.input_shape: tuple[int, ...] = tuple(int(v) for v in inputs[0]["shape"])
        self.input_dtype = inputs[0]["dtype"]
        self.output_details: list[dict[str, Any]] = list(self._interp.get_output_details())
        self._output_indices = [int(d["index"]) for d in self.output_details]

    def run(self, x: np.ndarray) -> list[np.ndarray]:
        """Invoke the model once.

        Args:
            x: input of ``input_shape`` (a missing leading batch axis of 1 is added), float32.

        Returns:
            The outputs, copied, in the model's output order.
        """
        self.invoke(x)
        get = self._interp.get_tensor
        return [get(i) for i in self._output_indices]

    def invoke(self, x: np.ndarray) -> None:
        """Set the input and invoke, leaving outputs in the interpreter (read them with :meth:`output`)."""
        if x.ndim == len(self.input_shape) - 1:
            x = x[None]
        if x.shape != self.input_shape:
            raise ValidationError(f"Expected model input of shape {self.input_shape}, but got {x.shape}")
        if x.dtype != self.input_dtype:
            x = x.astype(self.input_dtype)
        self._interp.set_tensor(self._input_index, x)
        self._interp.invoke()

    def output(self, i: int) -> np.ndarray:
        """Copy of output ``i`` (model output order) from the last :meth:`invoke`."""
        return self._interp.get_tensor(self._output_indices[i])

    def __repr__(self) -> str:
        return (
            f"TFLiteModel({str(self.path)!r}, threads={self.threads}, input_shape={self.input_shape}, "
            f"pruned={self.pruned})"
        )


@runtime_checkable
class Backend(Protocol):
    """A model with separate preprocess → infer → postprocess steps (rtmlib-style).

    ``preprocess`` returns the input tensor and a context object (e.g. the crop's inverse affine) that
    ``postprocess`` needs to map raw outputs back to image pixels.
    """

    def preprocess(self, image: np.ndarray, region: Any) -> tuple[np.ndarray, Any]: ...

    def infer(self, tensor: np.ndarray) -> list[np.ndarray]: ...

    def postprocess(self, outputs: list[np.ndarray], context: Any) -> Any: ...
