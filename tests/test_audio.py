"""Audio loading, resampling, framing and G.711 on real and generated signals."""

from __future__ import annotations

import audioop  # deprecated, but still the reference G.711 implementation in Python 3.11
import wave

import numpy as np
import pytest
import soundfile as sf

from media.audio import AudioError, iter_frames, load_audio, resample, write_wav
from media.codecs import alaw_decode, alaw_encode, ulaw_decode, ulaw_encode


def tone(seconds: float, rate: int, freq: float = 440.0) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_real_clip_loads_as_16k_mono(clips):
    audio = load_audio(clips[0].path)
    assert audio.sample_rate == 16_000
    assert audio.samples.ndim == 1 and audio.samples.dtype == np.float32
    assert 1.0 < audio.duration_s < 30.0


@pytest.mark.parametrize("rate", [8_000, 22_050, 44_100, 48_000])
def test_any_rate_is_resampled_to_16k(tmp_path, rate):
    path = tmp_path / f"tone_{rate}.wav"
    sf.write(path, tone(2.0, rate), rate)
    audio = load_audio(path)
    assert audio.sample_rate == 16_000
    assert abs(audio.duration_s - 2.0) < 0.01
    spectrum = np.abs(np.fft.rfft(audio.samples))
    assert abs(np.argmax(spectrum) * 16_000 / len(audio.samples) - 440) < 2


def test_stereo_is_averaged_to_mono(tmp_path):
    left = tone(1.0, 16_000)
    path = tmp_path / "stereo.wav"
    sf.write(path, np.stack([left, np.zeros_like(left)], axis=1), 16_000)
    audio = load_audio(path)
    assert audio.samples.ndim == 1
    assert np.allclose(audio.samples, left / 2, atol=1e-3)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "empty"),
        (b"RIFF\x00\x00\x00\x00WAVEjunkjunkjunk", "not a readable audio file"),
        (b"\x00" * 1000, "not a readable"),
    ],
)
def test_bad_files_give_clear_errors(tmp_path, content, message):
    path = tmp_path / "bad.wav"
    path.write_bytes(content)
    with pytest.raises(AudioError, match=message):
        load_audio(path)


def test_missing_file_and_zero_samples(tmp_path):
    with pytest.raises(AudioError, match="no such file"):
        load_audio(tmp_path / "nope.wav")
    path = tmp_path / "zero.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16_000)
    with pytest.raises(AudioError, match="no audio samples"):
        load_audio(path)


def test_over_long_input_is_refused_before_decoding(tmp_path):
    path = tmp_path / "long.wav"
    sf.write(path, np.zeros(16_000 * 20, dtype=np.float32), 16_000)
    with pytest.raises(AudioError, match="longer than the limit"):
        load_audio(path, max_seconds=10)


def test_frames_cover_the_signal_and_pad_the_tail(clips):
    audio = load_audio(clips[0].path)
    frames = list(iter_frames(audio, 20))
    assert all(len(f.pcm) == 640 for f in frames)
    assert frames[1].start_s == pytest.approx(0.02)
    assert len(frames) == -(-len(audio.samples) // 320)


def test_wav_round_trip(tmp_path):
    samples = tone(0.5, 8_000)
    write_wav(tmp_path / "t.wav", samples, 8_000)
    back = load_audio(tmp_path / "t.wav", sample_rate=8_000)
    assert np.allclose(back.samples, samples, atol=1e-4)


def test_g711_is_bit_exact_with_the_reference():
    pcm = np.arange(-32768, 32768, dtype=np.int32).astype("<i2").tobytes()
    assert ulaw_encode(pcm) == audioop.lin2ulaw(pcm, 2)
    assert alaw_encode(pcm) == audioop.lin2alaw(pcm, 2)
    codes = bytes(range(256))
    assert ulaw_decode(codes) == audioop.ulaw2lin(codes, 2)
    assert alaw_decode(codes) == audioop.alaw2lin(codes, 2)


def test_g711_telephone_path_keeps_speech(clips):
    """16 kHz speech -> 8 kHz -> mu-law -> back: the signal survives with telephone-grade SNR."""
    audio = load_audio(clips[0].path)
    narrow = resample(audio.samples, 16_000, 8_000)
    pcm = (np.clip(narrow, -1, 1) * 32767).astype("<i2").tobytes()
    decoded = np.frombuffer(ulaw_decode(ulaw_encode(pcm)), dtype="<i2").astype(np.float32) / 32768
    noise = decoded - narrow
    snr = 10 * np.log10(np.sum(narrow**2) / np.sum(noise**2))
    assert snr > 25
