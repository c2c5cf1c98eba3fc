"""Model assets: reassembly from packages, checksum pinning, tamper detection and the openai-whisper conversion."""

from __future__ import annotations

import shutil
import sys
import textwrap

import numpy as np
import pytest

from models import ModelAssetError, asset_report, find_whisper_model
from models.assets import (
    WHISPER_BASE,
    PackageFile,
    SplitModelSource,
    WhisperAsset,
    sha256_file,
    whisper_ct2_dir,
)
from models.convert import ct2_to_openai_state
from models.ct2 import CT2FormatError, read_ct2_model


@pytest.fixture(scope="module")
def ct2_dir():
    return find_whisper_model("base", "faster-whisper").path


def test_packaged_base_model_is_reassembled_and_pinned(ct2_dir):
    assert (ct2_dir / "model.bin").stat().st_size == WHISPER_BASE.size
    assert sha256_file(ct2_dir / "model.bin") in {s.sha256 for s in WHISPER_BASE.sources}
    assert {"config.json", "tokenizer.json"} <= {p.name for p in ct2_dir.iterdir()}


def test_ct2_reader_matches_the_measured_layout(ct2_dir):
    model = read_ct2_model(ct2_dir / "model.bin")
    assert model.spec == "WhisperSpec" and model.binary_version == 6
    assert len(model.variables) == 212
    assert model.get("decoder/projection/weight") is model.variables["decoder/embeddings/weight"]


def test_both_package_pairs_carry_identical_tensors(tmp_path):
    sources = [s for s in WHISPER_BASE.sources if not s.missing()]
    if len(sources) < 2:
        pytest.skip("only one package pair is installed")
    models = []
    for source in sources:
        asset = WhisperAsset("whisper-base", (source,), WHISPER_BASE.size)
        models.append(read_ct2_model(whisper_ct2_dir(asset, tmp_path) / "model.bin"))
    a, b = models
    for name, value in a.variables.items():
        assert np.array_equal(value, b.variables[name]), name


def test_conversion_splits_fused_projections_exactly(ct2_dir):
    model = read_ct2_model(ct2_dir / "model.bin")
    dims, state = ct2_to_openai_state(model)
    assert dims == {
        "n_mels": 80, "n_audio_ctx": 1500, "n_audio_state": 512, "n_audio_head": 8, "n_audio_layer": 6,
        "n_vocab": 51865, "n_text_ctx": 448, "n_text_state": 512, "n_text_head": 8, "n_text_layer": 6,
    }  # fmt: skip
    fused = model.get("decoder/layer_2/self_attention/linear_0/weight")
    assert np.array_equal(state["decoder.blocks.2.attn.value.weight"], fused[1024:])
    kv = model.get("decoder/layer_0/attention/linear_1/weight")
    assert np.array_equal(state["decoder.blocks.0.cross_attn.key.weight"], kv[:512])
    assert "decoder.blocks.0.attn.key.bias" not in state


def test_converted_checkpoint_loads_strictly_into_openai_whisper():
    import torch
    import whisper

    location = find_whisper_model("base", "openai-whisper")
    checkpoint = torch.load(location.path, weights_only=True)
    model = whisper.model.Whisper(whisper.model.ModelDimensions(**checkpoint["dims"]))
    model.load_state_dict(checkpoint["model_state_dict"], strict=True)


def test_nonzero_key_bias_is_refused(ct2_dir):
    model = read_ct2_model(ct2_dir / "model.bin")
    name = "encoder/layer_0/self_attention/linear_0/bias"
    tampered = dict(model.variables)
    bias = tampered[name].copy()
    bias[600] = 0.5
    tampered[name] = bias
    with pytest.raises(CT2FormatError, match="key bias"):
        ct2_to_openai_state(
            type(model)(model.spec, model.revision, model.binary_version, tampered, model.aliases)
        )


def _fake_package(root, name, files: dict[str, bytes]):
    package = root / name
    (package / "data").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    for rel, data in files.items():
        (package / rel).write_bytes(data)


@pytest.fixture
def fake_split_source(tmp_path, ct2_dir, monkeypatch):
    """A copy of the real model split into two installed-looking packages under tmp_path."""
    blob = (ct2_dir / "model.bin").read_bytes()
    half = len(blob) // 2
    _fake_package(
        tmp_path / "site",
        "fake_part1",
        {"data/model.bin.part1": blob[:half], "data/config.json": (ct2_dir / "config.json").read_bytes()},
    )
    _fake_package(tmp_path / "site", "fake_part2", {"data/model.bin.part2": blob[half:]})
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    sys.modules.pop("fake_part1", None)
    source = SplitModelSource(
        packages=("fake_part1", "fake_part2"),
        parts=(
            (PackageFile("fake_part1", "data/model.bin.part1"), half),
            (PackageFile("fake_part2", "data/model.bin.part2"), len(blob) - half),
        ),
        side_files={"config.json": PackageFile("fake_part1", "data/config.json")},
        sha256=sha256_file(ct2_dir / "model.bin"),
    )
    return WhisperAsset("whisper-test", (source,), len(blob)), tmp_path / "site"


def test_tampered_package_is_refused(fake_split_source, tmp_path):
    asset, site = fake_split_source
    part = site / "fake_part2" / "data" / "model.bin.part2"
    data = bytearray(part.read_bytes())
    data[1000] ^= 0xFF
    part.write_bytes(bytes(data))
    with pytest.raises(ModelAssetError, match="tampered"):
        whisper_ct2_dir(asset, tmp_path / "cache")
    assert not list((tmp_path / "cache").glob("whisper-test-*"))  # nothing half-written left behind


def test_truncated_package_is_refused_with_reinstall_hint(fake_split_source, tmp_path):
    asset, site = fake_split_source
    part = site / "fake_part1" / "data" / "model.bin.part1"
    part.write_bytes(part.read_bytes()[:1000])
    with pytest.raises(ModelAssetError, match="force-reinstall fake-part1 fake-part2"):
        whisper_ct2_dir(asset, tmp_path / "cache")


def test_tampered_cache_is_detected_and_rebuilt_on_verify(fake_split_source, tmp_path):
    asset, _ = fake_split_source
    built = whisper_ct2_dir(asset, tmp_path / "cache")
    with open(built / "model.bin", "r+b") as handle:
        handle.seek(5000)
        handle.write(b"\x00\x01\x02")
    rebuilt = whisper_ct2_dir(asset, tmp_path / "cache", verify=True)
    assert sha256_file(rebuilt / "model.bin") == asset.sources[0].sha256


def test_missing_packages_name_what_to_install(tmp_path):
    source = SplitModelSource(
        packages=("not_installed_a", "not_installed_b"),
        parts=((PackageFile("not_installed_a", "data/x"), 1),),
        side_files={},
        sha256="0" * 64,
    )
    with pytest.raises(ModelAssetError, match="pip install not-installed-a not-installed-b"):
        whisper_ct2_dir(WhisperAsset("whisper-none", (source,), 1), tmp_path)


def test_operator_provided_paths(tmp_path, ct2_dir):
    own = tmp_path / "my-model"
    shutil.copytree(ct2_dir, own)
    assert find_whisper_model("base", "faster-whisper", own).source == "user"
    converted = find_whisper_model("base", "openai-whisper", own)
    assert converted.source == "converted" and converted.path.suffix == ".pt"
    with pytest.raises(ModelAssetError, match="openai-whisper checkpoint"):
        find_whisper_model("base", "faster-whisper", converted.path)
    with pytest.raises(ModelAssetError, match="not a Whisper model"):
        find_whisper_model("base", "faster-whisper", tmp_path / "nothing")


def test_larger_models_are_not_fetched(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(ModelAssetError, match="not available offline"):
        find_whisper_model("large-v3", "faster-whisper", cache_dir=tmp_path)


def test_asset_report_verifies_everything_required():
    report = asset_report(verify=True)
    assert all(s.ok for s in report if s.required), [s for s in report if not s.ok]
    assert any("ko_dict" in s.name for s in report)


def test_unknown_binary_version_is_a_clear_error(tmp_path):
    path = tmp_path / "model.bin"
    path.write_bytes(textwrap.dedent("garbage").encode())
    with pytest.raises(CT2FormatError):
        read_ct2_model(path)
