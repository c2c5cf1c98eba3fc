"""Coqui TTS engine (tts/coqui.py): model-directory checks, the in-process import failure, the worker
protocol, and, when VOICEBOT_COQUI_PYTHON names a venv where coqui-tts works, real synthesis through
tiny VITS and XTTS models that have random weights and are built with Coqui's own config classes.

The always-run tests need no Coqui. The worker-protocol tests run the real worker
(`python -I tts/coqui.py --worker`) in a throwaway venv whose ``TTS`` package is a stand-in that renders
a 440 Hz tone, so the subprocess, the JSON and float32 framing, resampling, timeouts, restarts and the
network guard are all exercised offline in a few seconds.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import venv
from pathlib import Path

import numpy as np
import pytest

from tts import TTSConfig, TTSError, create_synthesizer
from tts.coqui import OFFLINE_ENV, CoquiSynthesizer, inspect_model_dir

COQUI_PYTHON_ENV = "VOICEBOT_COQUI_PYTHON"
KOREAN = "안녕하세요. 민원 상담 서비스입니다."


def coqui_config(model_dir: Path | None, python: str | None = None, **overrides) -> TTSConfig:
    return TTSConfig(
        engine="coqui", coqui_model_dir=model_dir, coqui_python=python, use_cache=False, **overrides
    )


def vits_dir(root: Path, *checkpoints: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "config.json").write_text('{"model": "vits"}', encoding="utf-8")
    for name in checkpoints:
        (root / name).write_bytes(b"not a real checkpoint")
    return root


# --------------------------------------------------------------------------------------------------
# Model directory checks (always run)
# --------------------------------------------------------------------------------------------------


def test_unset_model_dir_names_the_setting_and_the_files():
    with pytest.raises(TTSError, match="coqui_model_dir") as err:
        CoquiSynthesizer(coqui_config(None))
    assert "config.json" in str(err.value) and "model.pth" in str(err.value)


def test_missing_model_dir_says_what_files_are_expected(tmp_path):
    missing = tmp_path / "no-such-model"
    with pytest.raises(TTSError) as err:
        CoquiSynthesizer(coqui_config(missing))
    message = str(err.value)
    assert str(missing) in message and "does not exist" in message
    for expected in ("config.json", "model.pth", "vocab.json", "speakers_xtts.pth", "speaker.wav"):
        assert expected in message


def test_create_synthesizer_surfaces_the_missing_model_as_tts_error(tmp_path):
    with pytest.raises(TTSError, match="config.json"):
        create_synthesizer(coqui_config(tmp_path / "absent"))


def test_dir_without_config_json(tmp_path):
    (tmp_path / "model.pth").write_bytes(b"x")
    with pytest.raises(TTSError, match="no config.json"):
        inspect_model_dir(tmp_path)


def test_unreadable_config_json(tmp_path):
    (tmp_path / "config.json").write_text("{not json", encoding="utf-8")
    (tmp_path / "model.pth").write_bytes(b"x")
    with pytest.raises(TTSError, match="not readable JSON"):
        inspect_model_dir(tmp_path)


def test_config_without_checkpoint(tmp_path):
    with pytest.raises(TTSError, match=r"no checkpoint \*\.pth"):
        inspect_model_dir(vits_dir(tmp_path))


def test_checkpoint_choice(tmp_path):
    single = inspect_model_dir(vits_dir(tmp_path / "a", "checkpoint_12000.pth", "speakers.pth"))
    assert single.kind == "tts" and single.checkpoint.name == "checkpoint_12000.pth"
    preferred = inspect_model_dir(vits_dir(tmp_path / "b", "best_model.pth", "checkpoint_5.pth"))
    assert preferred.checkpoint.name == "best_model.pth"
    with pytest.raises(TTSError, match="several checkpoints"):
        inspect_model_dir(vits_dir(tmp_path / "c", "checkpoint_1.pth", "checkpoint_2.pth"))


def test_xtts_dir_lists_every_missing_file(tmp_path):
    (tmp_path / "config.json").write_text('{"model": "xtts"}', encoding="utf-8")
    (tmp_path / "model.pth").write_bytes(b"x")
    with pytest.raises(TTSError) as err:
        inspect_model_dir(tmp_path)
    message = str(err.value)
    assert "vocab.json" in message and "speaker.wav" in message and "XTTS" in message


def test_xtts_dir_takes_a_folder_of_reference_wavs(tmp_path):
    (tmp_path / "config.json").write_text('{"model": "xtts"}', encoding="utf-8")
    for name in ("model.pth", "vocab.json", "speaker_wav/b.wav", "speaker_wav/a.wav"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    model = inspect_model_dir(tmp_path)
    assert model.kind == "xtts"
    assert [p.name for p in model.speaker_wavs] == ["a.wav", "b.wav"]


def test_settings_change_when_the_model_file_changes(tmp_path):
    model_dir = vits_dir(tmp_path, "model.pth")
    before = CoquiSynthesizer(coqui_config(model_dir)).settings
    (model_dir / "model.pth").write_bytes(b"a different, retrained checkpoint")
    after = CoquiSynthesizer(coqui_config(model_dir)).settings
    assert before != after and before["kind"] == "tts"


def test_coqui_python_that_does_not_exist(tmp_path):
    with pytest.raises(TTSError, match="not an executable interpreter"):
        CoquiSynthesizer(coqui_config(vits_dir(tmp_path, "model.pth"), str(tmp_path / "nope" / "python")))


# --------------------------------------------------------------------------------------------------
# Import failures (always run): in-process, and through a worker whose interpreter lacks coqui-tts
# --------------------------------------------------------------------------------------------------


def _assert_guidance(message: str) -> None:
    assert "cannot be imported" in message
    assert "torchaudio" in message and "coqui_python" in message and "setup-coqui.sh" in message
    assert (Path(__file__).resolve().parents[1] / "scripts" / "setup-coqui.sh").is_file()  # the file it names


def test_in_process_import_failure_explains_the_isolated_venv(tmp_path, monkeypatch):
    for key, value in OFFLINE_ENV.items():
        monkeypatch.setenv(key, value)
    synth = CoquiSynthesizer(coqui_config(vits_dir(tmp_path, "model.pth")))
    assert synth.mode == "in-process"
    with pytest.raises(TTSError) as err:
        synth.synthesize(KOREAN)
    try:
        import TTS  # noqa: F401
    except Exception:
        _assert_guidance(str(err.value))
    else:  # coqui-tts is importable here after all: the dummy checkpoint must then fail to load
        assert "could not load the model" in str(err.value)


def test_worker_on_an_interpreter_without_coqui_reports_the_guidance(tmp_path):
    synth = CoquiSynthesizer(coqui_config(vits_dir(tmp_path, "model.pth"), sys.executable))
    assert synth.mode == "worker"
    try:
        with pytest.raises(TTSError) as err:
            synth.synthesize(KOREAN)
        _assert_guidance(str(err.value))
        assert synth._worker is None  # the failed worker was stopped, not left running
    finally:
        synth.close()


# --------------------------------------------------------------------------------------------------
# Worker protocol against a stand-in TTS package (always run)
# --------------------------------------------------------------------------------------------------

FAKE_SYNTHESIZER = """
import os, socket, sys, time
from pathlib import Path
import numpy as np

RATE = 22050


class _Model:
    speaker_manager = None
    language_manager = None


class Synthesizer:
    def __init__(self, *, tts_checkpoint, tts_config_path, **_):
        assert Path(tts_checkpoint).is_file() and Path(tts_config_path).is_file()
        assert os.environ.get("HF_HUB_OFFLINE") == "1"
        tts_dir = str(Path(sys.argv[0]).resolve().parent)  # the project's tts/ must not be importable
        assert "" not in sys.path and tts_dir not in [str(Path(p).resolve()) for p in sys.path if p]
        self.tts_model = _Model()
        self.output_sample_rate = RATE

    def tts(self, text, speaker_name=None, language_name=None, split_sentences=True):
        print("progress noise that must not reach the protocol")
        if "네트워크" in text:
            socket.create_connection(("127.0.0.1", 9), timeout=1)
        if "종료" in text:
            os._exit(3)
        if "잠깐" in text:
            time.sleep(60)
        t = np.arange(int(0.05 * RATE * len(text))) / RATE
        return list((0.5 * np.sin(2 * np.pi * 440.0 * t)).astype(np.float32))
"""


@pytest.fixture(scope="module")
def fake_coqui_python(tmp_path_factory) -> str:
    """A venv whose TTS renders a tone, with numpy from this venv and a stub torch: starts in a blink."""
    root = tmp_path_factory.mktemp("fake-coqui-venv")
    venv.EnvBuilder(with_pip=False, symlinks=True).create(root)
    python = root / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    site_dir = Path(site)
    files = {
        "TTS/__init__.py": '__version__ = "0.0-fake"\n',
        "TTS/utils/__init__.py": "",
        "TTS/utils/synthesizer.py": FAKE_SYNTHESIZER,
        "torch/__init__.py": 'import contextlib\n\n__version__ = "0.0-fake"\ninference_mode = contextlib.nullcontext\n',
        "numpy_from_project.pth": str(Path(np.__file__).resolve().parents[1]) + "\n",
    }
    for name, text in files.items():
        (site_dir / name).parent.mkdir(parents=True, exist_ok=True)
        (site_dir / name).write_text(text, encoding="utf-8")
    return str(python)


@pytest.fixture
def fake_synth(tmp_path, fake_coqui_python):
    synth = CoquiSynthesizer(
        coqui_config(vits_dir(tmp_path / "model", "model.pth"), fake_coqui_python), timeout_s=20
    )
    yield synth
    synth.close()


def test_worker_round_trip_resamples_the_models_audio(fake_synth):
    info = fake_synth.load()
    assert info["sample_rate"] == 22050 and info["coqui_tts"] == "0.0-fake" and info["kind"] == "tts"
    speech = fake_synth.synthesize("안녕하세요")
    assert speech.engine == "coqui" and speech.source == "synth"
    assert speech.text == "안녕하세요" and speech.spoken_text == "안녕하세요"
    assert speech.sample_rate == 16_000 and speech.samples.dtype == np.float32 and speech.samples.ndim == 1
    expected = int(0.05 * 22050 * 5) * 16_000 / 22_050
    assert abs(len(speech.samples) - expected) <= 2
    spectrum = np.abs(np.fft.rfft(speech.samples))
    peak_hz = np.argmax(spectrum) * 16_000 / len(speech.samples)
    assert abs(peak_hz - 440.0) < 10.0
    assert 0.45 < float(np.abs(speech.samples).max()) <= 0.55
    telephony = fake_synth.synthesize("안녕하세요", sample_rate=8_000)
    assert telephony.sample_rate == 8_000 and abs(len(telephony.samples) - expected / 2) <= 2


def test_worker_text_is_normalised_before_the_model_sees_it(fake_synth):
    speech = fake_synth.synthesize("3시")
    assert speech.spoken_text != "3시" and "시" in speech.spoken_text
    expected = int(0.05 * 22050 * len(speech.spoken_text)) * 16_000 / 22_050
    assert abs(len(speech.samples) - expected) <= 2


def test_worker_stream_yields_one_speech_per_sentence(fake_synth):
    parts = list(fake_synth.stream("첫 번째 문장입니다. 두 번째 문장입니다."))
    assert [p.spoken_text for p in parts] == ["첫 번째 문장입니다.", "두 번째 문장입니다."]
    assert all(p.sample_rate == 16_000 and len(p.samples) > 0 for p in parts)


def test_empty_text_is_refused_without_starting_a_worker(fake_synth):
    with pytest.raises(TTSError, match="nothing to say"):
        fake_synth.synthesize("   ")
    assert fake_synth._worker is None


def test_worker_refuses_network_access(fake_synth):
    with pytest.raises(TTSError, match="network access is disabled"):
        fake_synth.synthesize("네트워크 연결")
    assert len(fake_synth.synthesize("다시 한 번").samples) > 0  # the worker survives a failed request


def test_worker_that_dies_is_reported_then_restarted(fake_synth):
    fake_synth.load()
    first_pid = fake_synth._worker.proc.pid
    with pytest.raises(TTSError, match="exited"):
        fake_synth.synthesize("종료합니다")
    speech = fake_synth.synthesize("안녕하세요")
    assert len(speech.samples) > 0 and fake_synth._worker.proc.pid != first_pid


def test_worker_that_hangs_is_stopped_after_the_timeout(fake_synth):
    fake_synth.load()
    proc = fake_synth._worker.proc
    fake_synth.timeout_s = 1.0
    with pytest.raises(TTSError, match="no answer"):
        fake_synth.synthesize("잠깐만 기다리세요")
    assert proc.poll() is not None
    fake_synth.timeout_s = 20.0
    assert len(fake_synth.synthesize("안녕하세요").samples) > 0


def test_close_stops_the_worker(fake_synth):
    fake_synth.load()
    proc = fake_synth._worker.proc
    fake_synth.close()
    assert proc.poll() is not None
    with pytest.raises(TTSError, match="closed"):
        fake_synth.synthesize("안녕하세요")


def test_create_synthesizer_wraps_the_worker_engine(tmp_path, fake_coqui_python):
    config = coqui_config(vits_dir(tmp_path / "model", "model.pth"), fake_coqui_python)
    config.use_cache = True
    config.cache_dir = tmp_path / "cache"
    synth = create_synthesizer(config)
    try:
        first = synth.synthesize("안녕하세요")
        again = synth.synthesize("안녕하세요")
        assert (first.engine, first.source, again.source) == ("coqui", "synth", "cache")
        np.testing.assert_allclose(first.samples, again.samples, atol=1e-6)
    finally:
        synth.engine.close()


# --------------------------------------------------------------------------------------------------
# Real Coqui (only with VOICEBOT_COQUI_PYTHON): tiny random-weight VITS and XTTS models
# --------------------------------------------------------------------------------------------------

BUILD_TINY_VITS = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    import torch
    from TTS.config.shared_configs import BaseAudioConfig
    from TTS.tts.configs.shared_configs import CharactersConfig
    from TTS.tts.configs.vits_config import VitsArgs, VitsConfig
    from TTS.tts.models.vits import Vits

    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    hangul = "".join(chr(c) for c in range(0xAC00, 0xD7A4))
    characters = CharactersConfig(
        characters_class="TTS.tts.models.vits.VitsCharacters",
        pad="<PAD>", eos="<EOS>", bos="<BOS>", blank="<BLNK>",
        characters="abcdefghijklmnopqrstuvwxyz0123456789" + hangul,
        punctuations="!'(),-.:;? ",
    )
    args = VitsArgs(
        hidden_channels=16, hidden_channels_ffn_text_encoder=32, num_layers_text_encoder=1,
        num_layers_posterior_encoder=1, num_layers_flow=1, upsample_initial_channel_decoder=16,
        resblock_kernel_sizes_decoder=[3], resblock_dilation_sizes_decoder=[[1, 3, 5]],
        upsample_rates_decoder=[8, 8, 4], upsample_kernel_sizes_decoder=[16, 16, 8], init_discriminator=False,
    )
    config = VitsConfig(
        model_args=args, characters=characters, use_phonemes=False, text_cleaner="basic_cleaners",
        audio=BaseAudioConfig(sample_rate=22050, hop_length=256, win_length=1024, fft_size=1024),
        add_blank=True, run_name="tiny-random",
    )
    torch.manual_seed(0)
    model = Vits(config)
    torch.save({"model": model.state_dict()}, out / "model.pth")
    config.save_json(str(out / "config.json"))
    """
)

BUILD_TINY_XTTS = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    import numpy as np
    import soundfile as sf
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from TTS.tts.configs.xtts_config import XttsArgs, XttsConfig
    from TTS.tts.layers.xtts.tokenizer import VoiceBpeTokenizer
    from TTS.tts.models.xtts import Xtts

    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    special = ["[STOP]", "[UNK]", "[SPACE]", "[START]", "[ko]", "[en]"]
    vocab = {t: i for i, t in enumerate(special + list("abcdefghijklmnopqrstuvwxyz0123456789.,!?'-"))}
    tokenizer = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token="[UNK]"))
    tokenizer.add_special_tokens(special)
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.save(str(out / "vocab.json"))
    args = XttsArgs(gpt_layers=1, gpt_n_model_channels=64, gpt_n_heads=2, decoder_input_dim=64,
                    gpt_max_audio_tokens=40, gpt_max_text_tokens=200)
    config = XttsConfig(model_args=args, languages=["en", "ko"])
    config.save_json(str(out / "config.json"))
    torch.manual_seed(0)
    model = Xtts(config)
    model.tokenizer = VoiceBpeTokenizer(vocab_file=str(out / "vocab.json"))
    model.init_models()
    state = model.state_dict()
    state["mel_stats"] = torch.ones(80)
    torch.save({"model": state}, out / "model.pth")
    t = np.arange(22050 * 4) / 22050
    voice = 0.3 * np.sin(2 * np.pi * 180 * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t))
    sf.write(out / "speaker.wav", voice.astype(np.float32), 22050)
    """
)


def _offline_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env.update(OFFLINE_ENV)
    return env


@pytest.fixture(scope="module")
def coqui_python() -> str:
    python = os.environ.get(COQUI_PYTHON_ENV)
    if not python:
        pytest.skip(
            f"{COQUI_PYTHON_ENV} is not set: point it at the python of a venv where coqui-tts works "
            "(docs/coqui.md, scripts/setup-coqui.sh) to synthesise with tiny random Coqui models"
        )
    try:
        probe = subprocess.run(
            [python, "-I", "-c", "from TTS.utils.synthesizer import Synthesizer"],
            capture_output=True,
            text=True,
            timeout=300,
            env=_offline_env(),
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"{COQUI_PYTHON_ENV}={python} cannot be run: {exc}")
    if probe.returncode != 0:
        last = (probe.stderr.strip().splitlines() or ["?"])[-1]
        pytest.skip(f"{COQUI_PYTHON_ENV}={python} cannot import TTS: {last}")
    return python


def _build(python: str, script: str, out: Path) -> Path:
    result = subprocess.run(
        [python, "-I", "-c", script, str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        env=_offline_env(),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return out


@pytest.fixture(scope="module")
def tiny_vits(coqui_python, tmp_path_factory) -> Path:
    return _build(coqui_python, BUILD_TINY_VITS, tmp_path_factory.mktemp("tiny-vits"))


@pytest.fixture(scope="module")
def tiny_xtts(coqui_python, tmp_path_factory) -> Path:
    return _build(coqui_python, BUILD_TINY_XTTS, tmp_path_factory.mktemp("tiny-xtts"))


def _check_speech(speech, sample_rate: int) -> None:
    assert speech.engine == "coqui" and speech.source == "synth" and speech.sample_rate == sample_rate
    assert speech.samples.dtype == np.float32 and speech.samples.ndim == 1
    assert len(speech.samples) > 0.1 * sample_rate
    assert np.isfinite(speech.samples).all() and float(np.abs(speech.samples).max()) <= 1.0
    assert float(np.abs(speech.samples).max()) > 0.0


def test_tiny_vits_synthesises_korean_through_the_worker(coqui_python, tiny_vits):
    with CoquiSynthesizer(coqui_config(tiny_vits, coqui_python)) as synth:
        info = synth.load()
        assert info["kind"] == "tts" and info["sample_rate"] == 22050
        _check_speech(synth.synthesize(KOREAN), 16_000)
        _check_speech(synth.synthesize("오후 3시에 다시 전화드리겠습니다", sample_rate=8_000), 8_000)
        parts = list(synth.stream("첫 번째 문장입니다. 두 번째 문장입니다."))
        assert len(parts) == 2
        for part in parts:
            _check_speech(part, 16_000)


def test_tiny_xtts_synthesises_korean_with_the_reference_voice(coqui_python, tiny_xtts):
    with CoquiSynthesizer(coqui_config(tiny_xtts, coqui_python)) as synth:
        info = synth.load()
        assert info["kind"] == "xtts" and info["sample_rate"] == 24000 and info["language"] == "ko"
        _check_speech(synth.synthesize(KOREAN), 16_000)
