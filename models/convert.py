"""Convert a CTranslate2 Whisper model into an openai-whisper checkpoint ``{'dims', 'model_state_dict'}``.

CTranslate2 fuses self-attention q/k/v into one projection and cross-attention k/v into another, and keeps
a (zero) bias on the key projection, which openai-whisper does not have. The conversion splits the fused
matrices back and refuses a non-zero key bias, since dropping it would change the model.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path

import numpy as np

from models.ct2 import CT2FormatError, CT2Model, read_ct2_model


def _split(array: np.ndarray, parts: int) -> list[np.ndarray]:
    return np.split(array, parts, axis=0)


def _check_zero_key_bias(bias: np.ndarray, where: str) -> None:
    if np.any(bias != 0):
        raise CT2FormatError(f"{where}: the fused key bias is not zero; openai-whisper has no key bias")


def _attention(model: CT2Model, ct2: str, ow: str, out: dict[str, np.ndarray], cross: bool) -> None:
    if cross:
        q_w, q_b = model.get(f"{ct2}/linear_0/weight"), model.get(f"{ct2}/linear_0/bias")
        k_w, v_w = _split(model.get(f"{ct2}/linear_1/weight"), 2)
        k_b, v_b = _split(model.get(f"{ct2}/linear_1/bias"), 2)
        o = "linear_2"
    else:
        q_w, k_w, v_w = _split(model.get(f"{ct2}/linear_0/weight"), 3)
        q_b, k_b, v_b = _split(model.get(f"{ct2}/linear_0/bias"), 3)
        o = "linear_1"
    _check_zero_key_bias(k_b, ct2)
    out[f"{ow}.query.weight"], out[f"{ow}.query.bias"] = q_w, q_b
    out[f"{ow}.key.weight"] = k_w
    out[f"{ow}.value.weight"], out[f"{ow}.value.bias"] = v_w, v_b
    out[f"{ow}.out.weight"] = model.get(f"{ct2}/{o}/weight")
    out[f"{ow}.out.bias"] = model.get(f"{ct2}/{o}/bias")


def _norm(model: CT2Model, ct2: str, ow: str, out: dict[str, np.ndarray]) -> None:
    out[f"{ow}.weight"] = model.get(f"{ct2}/gamma")
    out[f"{ow}.bias"] = model.get(f"{ct2}/beta")


def _linear(model: CT2Model, ct2: str, ow: str, out: dict[str, np.ndarray]) -> None:
    out[f"{ow}.weight"] = model.get(f"{ct2}/weight")
    out[f"{ow}.bias"] = model.get(f"{ct2}/bias")


def _count_layers(model: CT2Model, stack: str) -> int:
    pattern = re.compile(rf"^{stack}/layer_(\d+)/")
    return len({m.group(1) for name in model.variables if (m := pattern.match(name))})


def ct2_to_openai_state(model: CT2Model) -> tuple[dict[str, int], dict[str, np.ndarray]]:
    """Return openai-whisper ``ModelDimensions`` fields and a state dict of numpy arrays."""
    if model.spec != "WhisperSpec":
        raise CT2FormatError(f"not a Whisper model: spec {model.spec!r}")
    state: dict[str, np.ndarray] = {}
    n_audio_layer = _count_layers(model, "encoder")
    n_text_layer = _count_layers(model, "decoder")

    for name in ("conv1", "conv2"):
        _linear(model, f"encoder/{name}", f"encoder.{name}", state)
    state["encoder.positional_embedding"] = model.get("encoder/position_encodings/encodings")
    for i in range(n_audio_layer):
        ct2, ow = f"encoder/layer_{i}", f"encoder.blocks.{i}"
        _attention(model, f"{ct2}/self_attention", f"{ow}.attn", state, cross=False)
        _norm(model, f"{ct2}/self_attention/layer_norm", f"{ow}.attn_ln", state)
        _linear(model, f"{ct2}/ffn/linear_0", f"{ow}.mlp.0", state)
        _linear(model, f"{ct2}/ffn/linear_1", f"{ow}.mlp.2", state)
        _norm(model, f"{ct2}/ffn/layer_norm", f"{ow}.mlp_ln", state)
    _norm(model, "encoder/layer_norm", "encoder.ln_post", state)

    state["decoder.token_embedding.weight"] = model.get("decoder/embeddings/weight")
    state["decoder.positional_embedding"] = model.get("decoder/position_encodings/encodings")
    for i in range(n_text_layer):
        ct2, ow = f"decoder/layer_{i}", f"decoder.blocks.{i}"
        _attention(model, f"{ct2}/self_attention", f"{ow}.attn", state, cross=False)
        _norm(model, f"{ct2}/self_attention/layer_norm", f"{ow}.attn_ln", state)
        _attention(model, f"{ct2}/attention", f"{ow}.cross_attn", state, cross=True)
        _norm(model, f"{ct2}/attention/layer_norm", f"{ow}.cross_attn_ln", state)
        _linear(model, f"{ct2}/ffn/linear_0", f"{ow}.mlp.0", state)
        _linear(model, f"{ct2}/ffn/linear_1", f"{ow}.mlp.2", state)
        _norm(model, f"{ct2}/ffn/layer_norm", f"{ow}.mlp_ln", state)
    _norm(model, "decoder/layer_norm", "decoder.ln", state)

    conv1 = model.get("encoder/conv1/weight")
    token_embedding = state["decoder.token_embedding.weight"]
    dims = {
        "n_mels": int(conv1.shape[1]),
        "n_audio_ctx": int(state["encoder.positional_embedding"].shape[0]),
        "n_audio_state": int(conv1.shape[0]),
        "n_audio_head": int(model.get("encoder/num_heads")),
        "n_audio_layer": n_audio_layer,
        "n_vocab": int(token_embedding.shape[0]),
        "n_text_ctx": int(state["decoder.positional_embedding"].shape[0]),
        "n_text_state": int(token_embedding.shape[1]),
        "n_text_head": int(model.get("decoder/num_heads")),
        "n_text_layer": n_text_layer,
    }
    return dims, state


def convert_ct2_to_openai(ct2_dir: Path, output: Path) -> Path:
    """Write an openai-whisper checkpoint for the CTranslate2 model in ``ct2_dir`` (atomic rename)."""
    import torch

    model = read_ct2_model(ct2_dir / "model.bin")
    dims, state = ct2_to_openai_state(model)
    checkpoint: dict[str, object] = {
        "dims": dims,
        "model_state_dict": {k: torch.from_numpy(np.array(v, copy=True)) for k, v in state.items()},
    }
    config_path = ct2_dir / "config.json"
    if config_path.is_file():
        heads = json.loads(config_path.read_text()).get("alignment_heads")
        if heads:
            checkpoint["alignment_heads"] = [list(map(int, pair)) for pair in heads]
    output.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".convert-", suffix=".pt", dir=output.parent)
    os.close(fd)
    try:
        torch.save(checkpoint, tmp)
        os.replace(tmp, output)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return output
