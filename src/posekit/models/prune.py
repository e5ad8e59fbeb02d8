"""Drop the operators of a ``.tflite`` model that no kept output depends on.

The LiteRT interpreter runs every operator in a subgraph's execution plan, whether or not anybody reads
the outputs they feed. MediaPipe's ``pose_landmark_full.tflite`` computes a 256x256 segmentation mask
(46 of its 332 operators, ~45 % of the invoke time on one CPU thread) that posekit never reads. Pruning
rewrites the model in memory with only the operators the kept outputs need; the remaining operators,
weights and their order are untouched, so the kept outputs are bit-identical to the full model's.

The model file on disk is never modified.
"""

from __future__ import annotations

from collections.abc import Sequence

from posekit.errors import ValidationError

__all__ = ["prune_outputs", "output_names"]


def _schema():  # deferred: the generated schema module costs ~0.1 s to import
    from ai_edge_litert import schema_py_generated as schema

    return schema


def output_names(model: bytes) -> list[str]:
    """Names of the first subgraph's outputs, in the model's output order."""
    m = _schema().ModelT.InitFromPackedBuf(model, 0)
    g = m.subgraphs[0]
    return [g.tensors[t].name.decode() for t in g.outputs]


def prune_outputs(model: bytes, keep: Sequence[str]) -> bytes:
    """Rewrite ``model`` so that its single subgraph computes only the outputs named ``keep``.

    Args:
        model: the ``.tflite`` flatbuffer.
        keep: output tensor names to keep, in the order the new model should return them.

    Returns:
        The pruned flatbuffer (``bytes``) for ``Interpreter(model_content=...)``.

    Raises:
        ValidationError: ``keep`` is empty, names an output the model does not have, or the model has
            more than one subgraph or signature definitions (not handled here).
    """
    import flatbuffers

    schema = _schema()
    m = schema.ModelT.InitFromPackedBuf(model, 0)
    if len(m.subgraphs) != 1 or m.signatureDefs:
        raise ValidationError("pruning handles models with one subgraph and no signature definitions only")
    g = m.subgraphs[0]
    by_name = {g.tensors[t].name.decode(): t for t in g.outputs}
    if not keep:
        raise ValidationError("prune_outputs needs at least one output to keep")
    unknown = [k for k in keep if k not in by_name]
    if unknown:
        raise ValidationError(f"model has no output named {unknown}; its outputs are {list(by_name)}")
    producer = {t: k for k, op in enumerate(g.operators) for t in (op.outputs if op.outputs is not None else [])}
    needed: set[int] = set()
    stack = [by_name[k] for k in keep]
    while stack:
        k = producer.get(stack.pop())
        if k is None or k in needed:
            continue
        needed.add(k)
        op = g.operators[k]
        stack.extend(int(t) for t in (op.inputs if op.inputs is not None else []) if t >= 0)
    g.operators = [op for k, op in enumerate(g.operators) if k in needed]
    g.outputs = [by_name[k] for k in keep]
    b = flatbuffers.Builder(len(model) + 1024)
    b.Finish(m.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())
