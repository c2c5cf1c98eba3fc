"""Finding, verifying and converting model weights, offline only.

Public interface:
- ``find_whisper_model(name="base", backend="faster-whisper", path=None) -> ModelLocation``: weights for a
  backend, reassembled from registry packages (SHA-256 pinned) or converted, or an operator's own files.
- ``asset_report(verify=True) -> list[AssetStatus]``: what ``voicebot models list/verify`` prints.
- ``ModelAssetError``: a missing or corrupt asset; the message names the package to install.
- ``convert_ct2_to_openai(ct2_dir, output)``: CTranslate2 Whisper to an openai-whisper checkpoint.
- ``default_cache_dir()``: ``$VOICEBOT_MODELS_DIR`` or ``~/.cache/voicebot/models``.
"""

from models.assets import ModelAssetError, default_cache_dir
from models.catalog import AssetStatus, ModelLocation, asset_report, find_whisper_model
from models.convert import convert_ct2_to_openai

__all__ = [
    "AssetStatus",
    "ModelAssetError",
    "ModelLocation",
    "asset_report",
    "convert_ct2_to_openai",
    "default_cache_dir",
    "find_whisper_model",
]
