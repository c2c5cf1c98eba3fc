"""Turn-taking test and benchmark sets built from the shared recordings and from audio made here (issue 14).

``scripts/make_turn_sets.py`` is the command; its docstring and ``benchmarks/README.md`` say how each
set is made. ``build(out_dir)`` writes, under ``out_dir``:

- ``multi/``: one caller turn of two sentences, or of one sentence with a pause inside it, as 16 kHz
  WAVs named ``ko_*.wav`` with a ``manifest.tsv`` in the shared clips' format (file, language,
  transcript, source, licence), so ``benchmarks.latency --audio-dir`` and the Pipecat anchor read it
  as they read ``../shared/audio``;
- ``acks/``, ``bargein/``, ``noise/``: the caller's side of a call whose bot prompt starts at 0 s, with
  one acknowledgement, real barge-in or noise placed at a recorded onset over that prompt;
- ``sets.json``: every item, how it was made and its marks (where the caller's last voiced frame is,
  pause lengths, onsets), with the SHA-256 of its WAV.

Marks come from webrtcvad on the written file read back as the benchmark reads it (``load_audio``, 20 ms
frames, a fresh ``WebRtcVad`` per item), the same way ``benchmarks.latency`` finds the end of speech.
Randomness is seeded per item (``SeedSequence([seed, set, index])``), so an item does not change when
another is added. Word timestamps of the shared clips come from ``tests/data/turns/words.json``
(Whisper base via faster-whisper, computed once by ``--recompute-words``), so building needs no model.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks.stt import SHARED_AUDIO
from media.audio import PIPELINE_RATE, Audio, iter_frames, load_audio, write_wav
from media.vad import WebRtcVad

REPO = Path(__file__).resolve().parents[1]
DATA_DIR = REPO / "tests" / "data" / "turns"
WORDS_FILE = DATA_DIR / "words.json"
DESCRIPTION_FILE = DATA_DIR / "sets.json"
VERSION = 1
SEED = 14
RATE = PIPELINE_RATE
FRAME_MS = 20

SETS = ("multi", "acks", "bargein", "noise")
PAUSES_MS = (300, 500, 700, 1000, 1500)
JOINED = 10  # two-sentence turns
INSERTS_PER_CLIP = 2  # single sentences with a pause inserted at a word boundary
MAX_TURN_SPEECH_S = 16.0  # the endpointer forces an end at 20 s
EDGE_S = 0.04  # kept past the last voiced frame of the first sentence and before the first of the second
FADE_S = 0.01

# Acknowledgements callers say over a prompt; the same words are looked for in the real clips.
ACK_TEXTS = ("네", "예", "응", "음", "아", "그렇죠", "네네", "아 네")
ACK_WORDS = {"네", "예", "응", "음", "아", "어", "그렇죠", "네네", "예예", "그래요", "맞아요"}
BARGE_TEXTS = (
    "잠깐만요",
    "아니요 그게 아니라",
    "저기요 잠깐만요",
    "상담원 연결해 주세요",
    "아니요 그게 아니라 버스 요금이요",
)
# espeak-ng (rate in words per minute, pitch 0-100): slow and low, the default, fast and high.
VOICES = ((120, 35), (145, 50), (190, 70))
BARGE_VOICES = ((145, 50), (190, 70))
ONSET_RANGE_S = (1.5, 8.0)  # where over the prompt (which starts at 0 s) the sound begins
OVER_PROMPT_TAIL_S = 3.0
OPENING_MIN_S = 1.2  # a real barge-in: the first words of a clip, at least this long


@dataclass(frozen=True)
class SourceClip:
    name: str
    transcript: str
    licence: str
    samples: np.ndarray


# -- marks ---------------------------------------------------------------------------------------------


def voiced_flags(samples: np.ndarray) -> list[bool]:
    """webrtcvad per 20 ms frame, as ``benchmarks.latency.load_clips`` scores a clip."""
    vad = WebRtcVad()
    return [vad.is_speech(f) for f in iter_frames(Audio(samples, RATE), FRAME_MS)]


def speech_marks(samples: np.ndarray) -> dict:
    """First sustained voiced frame, last voiced frame (the true end of turn) and the longest unvoiced
    run between them, in seconds."""
    flags = voiced_flags(samples)
    step = FRAME_MS / 1000
    voiced = [i for i, v in enumerate(flags) if v]
    if not voiced:
        return {"speech_onset_s": None, "speech_end_s": None, "longest_gap_ms": 0}
    onset = next((i for i in voiced if sum(flags[i : i + 10]) >= 6), voiced[0])
    end = voiced[-1] + 1
    longest, run = 0, 0
    for flag in flags[onset:end]:
        run = 0 if flag else run + 1
        longest = max(longest, run)
    return {
        "speech_onset_s": round(onset * step, 3),
        "speech_end_s": round(end * step, 3),
        "longest_gap_ms": longest * FRAME_MS,
    }


def gap_around(samples: np.ndarray, start_s: float, end_s: float) -> int:
    """Length in ms of the unvoiced run that holds the middle of [start_s, end_s] (0 if that is voiced)."""
    flags = voiced_flags(samples)
    middle = int((start_s + end_s) / 2 * 1000 // FRAME_MS)
    if middle >= len(flags) or flags[middle]:
        return 0
    lo = hi = middle
    while lo > 0 and not flags[lo - 1]:
        lo -= 1
    while hi + 1 < len(flags) and not flags[hi + 1]:
        hi += 1
    return (hi - lo + 1) * FRAME_MS


def active_rms_db(samples: np.ndarray) -> float:
    """Level of the loud part: RMS over the 20 ms frames within 20 dB of the loudest."""
    size = RATE * FRAME_MS // 1000
    frames = [samples[i : i + size] for i in range(0, len(samples) - size + 1, size)] or [samples]
    rms = np.array([np.sqrt(np.mean(np.square(f, dtype=np.float64))) for f in frames])
    loud = rms[rms >= rms.max() * 0.1]
    return float(20 * np.log10(np.sqrt(np.mean(loud**2)) + 1e-12))


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _rng(seed: int, set_name: str, index: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, SETS.index(set_name), index]))


def _fade(samples: np.ndarray, fade_in: bool, fade_out: bool) -> np.ndarray:
    out = samples.astype(np.float32, copy=True)
    n = min(int(FADE_S * RATE), len(out) // 2)
    if n:
        ramp = (0.5 - 0.5 * np.cos(np.linspace(0, np.pi, n))).astype(np.float32)
        if fade_in:
            out[:n] *= ramp
        if fade_out:
            out[-n:] *= ramp[::-1]
    return out


def room_tone(rng: np.random.Generator, seconds: float, level_db: float) -> np.ndarray:
    return (rng.standard_normal(int(round(seconds * RATE))) * 10 ** (level_db / 20)).astype(np.float32)


def noise_floor_db(samples: np.ndarray) -> float:
    size = RATE * FRAME_MS // 1000
    rms = [
        np.sqrt(np.mean(np.square(samples[i : i + size], dtype=np.float64)))
        for i in range(0, len(samples) - size, size)
    ]
    return float(round(20 * np.log10(np.percentile(rms, 10) + 1e-9), 1))


def quietest_point(samples: np.ndarray, around_s: float, reach_s: float = 0.1) -> float:
    """The centre of the quietest 10 ms (5 ms hop) within ``reach_s`` of ``around_s``."""
    win, hop = int(0.01 * RATE), int(0.005 * RATE)
    lo = max(0, int(round((around_s - reach_s) * RATE)) - win // 2)
    hi = min(len(samples) - win, int(round((around_s + reach_s) * RATE)) - win // 2)
    if hi <= lo:
        return around_s
    starts = range(lo, hi + 1, hop)
    energy = [float(np.sum(np.square(samples[s : s + win], dtype=np.float64))) for s in starts]
    best = list(starts)[int(np.argmin(energy))]
    return round((best + win // 2) / RATE, 4)


# -- sources -------------------------------------------------------------------------------------------


def load_sources(audio_dir: Path = SHARED_AUDIO, names: list[str] | None = None) -> list[SourceClip]:
    """The Korean clips of ``audio_dir``'s manifest (language ko), in manifest order."""
    clips = []
    with open(audio_dir / "manifest.tsv", encoding="utf-8") as handle:
        header = handle.readline().rstrip("\n").split("\t")
        for line in handle:
            row = dict(zip(header, line.rstrip("\n").split("\t"), strict=False))
            if row.get("language") != "ko" or (names and row["file"] not in names):
                continue
            samples = load_audio(audio_dir / row["file"]).samples
            clips.append(SourceClip(row["file"], row["transcript"], row.get("licence", ""), samples))
    return clips


def compute_words(clips: list[SourceClip]) -> dict:
    """Word timestamps from Whisper base (faster-whisper, the weights ``models`` finds locally, beam 5,
    Korean). Slow (a second per clip); the result is committed as ``tests/data/turns/words.json``."""
    from faster_whisper import WhisperModel

    from models.catalog import find_whisper_model

    location = find_whisper_model("base", backend="faster-whisper")
    model = WhisperModel(str(location.path), device="cpu", compute_type="int8", cpu_threads=2)
    words = {}
    for clip in clips:
        segments, _ = model.transcribe(
            clip.samples, language="ko", beam_size=5, word_timestamps=True, condition_on_previous_text=False
        )
        words[clip.name] = [
            [w.word.strip(), round(w.start, 3), round(w.end, 3), round(w.probability, 3)]
            for s in segments
            for w in s.words
        ]
    return {
        "how": "faster-whisper word_timestamps=True, Whisper base int8, beam 5, language ko",
        "model": location.path.name,
        "clips": words,
    }


def dump_words(words: dict) -> str:
    """``words.json`` text: one word (text, start s, end s, probability) per line."""
    lines = [
        "{",
        f' "how": {json.dumps(words["how"])},',
        f' "model": {json.dumps(words["model"])},',
        ' "clips": {',
    ]
    clips = list(words["clips"].items())
    for n, (clip, clip_words) in enumerate(clips):
        lines.append(f"  {json.dumps(clip)}: [")
        rows = [f"   {json.dumps(w, ensure_ascii=False)}" for w in clip_words]
        lines.append(",\n".join(rows))
        lines.append("  ]" + ("," if n < len(clips) - 1 else ""))
    lines += [" }", "}"]
    return "\n".join(lines) + "\n"


def load_words(path: Path = WORDS_FILE) -> dict[str, list[list]]:
    return json.loads(path.read_text(encoding="utf-8"))["clips"]


def _bare(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFC", word) if unicodedata.category(c)[0] in "LN")


def find_real_acks(words: dict[str, list[list]]) -> list[tuple[str, str, float, float]]:
    """(clip, word, start, end) of every acknowledgement word Whisper found in the clips."""
    found = []
    for clip, clip_words in words.items():
        for word, start, end, _ in clip_words:
            if _bare(word) in {_bare(w) for w in ACK_WORDS} and end > start:
                found.append((clip, word, start, end))
    return found


# -- synthesis -----------------------------------------------------------------------------------------


class _Voices:
    """espeak-ng through the project's TTS (``tts.create_synthesizer(TTSConfig(rate_wpm, pitch))``, no cache).

    espeak-ng carries state from one utterance to the next inside a process (the same text comes out a
    few samples different the second time), so every sound of the sets is synthesised in one fresh child
    process, always the same list in the same order: the same bytes on every build, whichever sets are
    asked for."""

    def __init__(self):
        self._sounds: dict[tuple[str, int, int], np.ndarray] | None = None

    @staticmethod
    def requests() -> list[tuple[str, int, int]]:
        return [(t, r, p) for t in ACK_TEXTS for r, p in VOICES] + [
            (t, r, p) for t in BARGE_TEXTS for r, p in BARGE_VOICES
        ]

    def say(self, text: str, rate_wpm: int, pitch: int) -> np.ndarray:
        if self._sounds is None:
            import subprocess
            import sys
            import tempfile

            requests = self.requests()
            with tempfile.TemporaryDirectory() as tmp:
                out = Path(tmp) / "speech.npz"
                subprocess.run(
                    [sys.executable, "-m", "benchmarks.turn_sets", "--synthesize", str(out)],
                    input=json.dumps(requests),
                    text=True,
                    check=True,
                    cwd=REPO,
                    capture_output=True,
                )
                with np.load(out) as data:
                    self._sounds = {req: trim(data[f"s{i}"]) for i, req in enumerate(requests)}
        return self._sounds[(text, rate_wpm, pitch)]


def _synthesize(requests: list[list], out: Path) -> None:
    from tts import TTSConfig, create_synthesizer

    synths: dict[tuple[int, int], object] = {}
    sounds = {}
    for i, (text, rate, pitch) in enumerate(requests):
        if (rate, pitch) not in synths:
            synths[rate, pitch] = create_synthesizer(TTSConfig(rate_wpm=rate, pitch=pitch, use_cache=False))
        sounds[f"s{i}"] = synths[rate, pitch].synthesize(text, sample_rate=RATE).samples
    np.savez(out, **sounds)


def trim(samples: np.ndarray, margin_s: float = 0.02) -> np.ndarray:
    """Cut leading and trailing silence (below 1 % of the peak), keeping ``margin_s`` each side."""
    loud = np.nonzero(np.abs(samples) >= 0.01 * np.abs(samples).max())[0]
    margin = int(margin_s * RATE)
    return samples[max(0, loud[0] - margin) : loud[-1] + 1 + margin]


def at_level(samples: np.ndarray, level_db: float) -> np.ndarray:
    gain = 10 ** ((level_db - active_rms_db(samples)) / 20)
    return np.clip(samples * gain, -1.0, 1.0).astype(np.float32)


def _bandpass(samples: np.ndarray, low: float, high: float) -> np.ndarray:
    from scipy.signal import butter, sosfilt

    sos = butter(4, [low, high], btype="bandpass", fs=RATE, output="sos")
    return sosfilt(sos, samples).astype(np.float32)


def noise_burst(rng: np.random.Generator, seconds: float, low: float, high: float) -> np.ndarray:
    n = int(round(seconds * RATE))
    ramp = int(0.01 * RATE)
    envelope = np.ones(n, np.float32)
    envelope[:ramp] = np.linspace(0, 1, ramp)
    envelope[-ramp:] = np.linspace(1, 0, ramp)
    return _bandpass(rng.standard_normal(n).astype(np.float32), low, high) * envelope


def clicks(rng: np.random.Generator, count: int, spread_s: float) -> np.ndarray:
    """``count`` clicks (3 ms decaying broadband ticks) spread over ``spread_s``."""
    n = int(round(max(spread_s, 0.02) * RATE)) + int(0.01 * RATE)
    out = np.zeros(n, np.float32)
    tick = int(0.003 * RATE)
    shape = (rng.standard_normal(tick) * np.exp(-np.arange(tick) / (0.0008 * RATE))).astype(np.float32)
    for k in range(count):
        at = int(round(k * spread_s / max(count - 1, 1) * RATE)) if count > 1 else 0
        out[at : at + tick] += shape
    return out


def cough(rng: np.random.Generator, seconds: float) -> np.ndarray:
    """A cough: an explosive broadband onset and a noisy decay through throat-like resonances."""
    n = int(round(seconds * RATE))
    t = np.arange(n) / RATE
    attack = np.minimum(1.0, t / 0.008)
    envelope = attack * np.exp(-t / (seconds / 3.5))
    source = rng.standard_normal(n).astype(np.float32)
    shaped = (
        _bandpass(source, 300, 900)
        + 0.8 * _bandpass(source, 1100, 1900)
        + 0.5 * _bandpass(source, 2200, 3400)
    )
    burst = _bandpass(source, 200, 6000) * np.exp(-t / 0.02)
    return ((shaped + burst) * envelope).astype(np.float32)


# -- the sets ------------------------------------------------------------------------------------------


def _write(out_dir: Path, file: str, samples: np.ndarray, item: dict) -> dict:
    path = write_wav(out_dir / file, samples, RATE)
    marks = speech_marks(load_audio(path).samples)
    item.update(marks)
    item["duration_s"] = round(load_audio(path).duration_s, 3)
    item["sha256"] = _sha(path)
    return item


def _speech_span(clip: SourceClip) -> tuple[float, float]:
    marks = speech_marks(clip.samples)
    return marks["speech_onset_s"], marks["speech_end_s"]


def build_multi(clips: list[SourceClip], words: dict, out_dir: Path, seed: int) -> list[dict]:
    out_dir.mkdir(parents=True, exist_ok=True)
    spans = {c.name: _speech_span(c) for c in clips}
    floors = {c.name: noise_floor_db(c.samples) for c in clips}
    items: list[dict] = []
    # Two sentences joined: the first up to its last voiced frame, a pause, the second from its first.
    order = _rng(seed, "multi", 0).permutation(len(clips) * len(clips))
    used = dict.fromkeys((c.name for c in clips), 0)
    for code in order:
        if sum(1 for i in items if i["kind"] == "joined") >= JOINED:
            break
        a, b = clips[code // len(clips)], clips[code % len(clips)]
        if a is b or used[a.name] >= 2 or used[b.name] >= 2:
            continue
        pause_ms = PAUSES_MS[len(items) % len(PAUSES_MS)]
        (a_on, a_end), (b_on, b_end) = spans[a.name], spans[b.name]
        if (a_end - a_on) + pause_ms / 1000 + (b_end - b_on) > MAX_TURN_SPEECH_S:
            continue
        used[a.name] += 1
        used[b.name] += 1
        index = len(items) + 1
        rng = _rng(seed, "multi", index)
        first = _fade(a.samples[: int(round((a_end + EDGE_S) * RATE))], False, True)
        second = _fade(b.samples[int(round((b_on - EDGE_S) * RATE)) :], True, False)
        level = min(floors[a.name], floors[b.name])
        gap = room_tone(rng, pause_ms / 1000 - 2 * EDGE_S, level)
        file = f"ko_join_{index:02d}_{_short(a.name)}+{_short(b.name)}_p{pause_ms}.wav"
        item = {
            "id": file.removesuffix(".wav"),
            "file": file,
            "kind": "joined",
            "sources": [a.name, b.name],
            "transcript": f"{a.transcript} {b.transcript}",
            "licence": a.licence if a.licence == b.licence else f"{a.licence}; {b.licence}",
            "pause_ms": pause_ms,
            "how": (
                f"{a.name} up to {EDGE_S * 1000:.0f} ms after its last voiced frame ({a_end:.2f} s), "
                f"{pause_ms} ms of silence between voiced frames (room tone at {level} dBFS), "
                f"{b.name} from {EDGE_S * 1000:.0f} ms before its first voiced frame ({b_on:.2f} s)"
            ),
            "pause_start_s": round(len(first) / RATE - EDGE_S, 3),
            "pause_end_s": round((len(first) + len(gap)) / RATE + EDGE_S, 3),
            "room_tone_dbfs": level,
        }
        items.append(_write(out_dir, file, np.concatenate([first, gap, second]), item))
    # One sentence with a pause inserted at a word boundary (Whisper's words, refined to the quietest
    # 10 ms nearby), once in each half of the sentence's middle.
    # Pause lengths go round a seeded order of the five, so each is used about as often and the two
    # pauses of one clip differ.
    order = [PAUSES_MS[i] for i in _rng(seed, "multi", 1000).permutation(len(PAUSES_MS))]
    turn = 0
    for clip in clips:
        on, end = spans[clip.name]
        clip_words = words.get(clip.name, [])
        boundaries = [
            (round((clip_words[i][2] + clip_words[i + 1][1]) / 2, 3), i) for i in range(len(clip_words) - 1)
        ]
        halves = (
            [b for b in boundaries if on + 0.25 * (end - on) <= b[0] <= on + 0.5 * (end - on)],
            [b for b in boundaries if on + 0.5 * (end - on) < b[0] <= on + 0.75 * (end - on)],
        )
        for half in halves[:INSERTS_PER_CLIP]:
            if not half:
                continue
            index = len(items) + 1
            rng = _rng(seed, "multi", index)
            boundary, word = half[int(rng.integers(len(half)))]
            cut = quietest_point(clip.samples, boundary)
            at = int(round(cut * RATE))
            pause_ms = order[turn % len(order)]
            turn += 1
            gap = room_tone(rng, pause_ms / 1000, noise_floor_db(clip.samples))
            head = _fade(clip.samples[:at], False, True)
            tail = _fade(clip.samples[at:], True, False)
            file = f"ko_pause_{index:02d}_{_short(clip.name)}_p{pause_ms}.wav"
            before = " ".join(w[0] for w in clip_words[: word + 1])
            item = {
                "id": file.removesuffix(".wav"),
                "file": file,
                "kind": "inserted",
                "sources": [clip.name],
                "transcript": clip.transcript,
                "licence": clip.licence,
                "pause_ms": pause_ms,
                "how": (
                    f"{pause_ms} ms of room tone inserted into {clip.name} at {cut:.3f} s, the quietest 10 ms "
                    f"within 100 ms of Whisper's boundary at {boundary:.3f} s after {clip_words[word][0]!r}"
                ),
                "cut_s": cut,
                "whisper_boundary_s": boundary,
                "words_before": before,
                "pause_start_s": round(cut, 3),
                "pause_end_s": round(cut + pause_ms / 1000, 3),
            }
            items.append(_write(out_dir, file, np.concatenate([head, gap, tail]), item))
    for item in items:
        samples = load_audio(out_dir / item["file"]).samples
        item["voiced_gap_ms"] = gap_around(samples, item["pause_start_s"], item["pause_end_s"])
    _write_manifest(out_dir, items)
    return items


def _short(name: str) -> str:
    stem = Path(name).stem
    return stem.rsplit("_", 1)[-1] if stem.startswith("ko_zeroth") else stem.removeprefix("ko_")[:12]


def _write_manifest(out_dir: Path, items: list[dict]) -> None:
    lines = ["file\tlanguage\ttranscript\tsource\tlicence"]
    for item in items:
        lines.append(f"{item['file']}\tko\t{item['transcript']}\t{item['how']}\t{item['licence']}")
    (out_dir / "manifest.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _over_prompt(rng: np.random.Generator, sound: np.ndarray) -> tuple[np.ndarray, float]:
    onset = round(round(float(rng.uniform(*ONSET_RANGE_S)) / 0.02) * 0.02, 2)  # on the 20 ms frame grid
    lead = np.zeros(int(round(onset * RATE)), np.float32)
    tail = np.zeros(int(OVER_PROMPT_TAIL_S * RATE), np.float32)
    return np.concatenate([lead, sound, tail]), onset


def build_acks(clips: list[SourceClip], words: dict, out_dir: Path, seed: int, voices: _Voices) -> list[dict]:
    items: list[dict] = []
    by_name = {c.name: c for c in clips}
    sounds: list[tuple[np.ndarray, dict]] = []
    for clip, word, start, end in find_real_acks({k: v for k, v in words.items() if k in by_name}):
        a, b = (
            quietest_point(by_name[clip].samples, start, 0.05),
            quietest_point(by_name[clip].samples, end, 0.05),
        )
        cut = _fade(by_name[clip].samples[int(a * RATE) : int(b * RATE)], True, True)
        sounds.append(
            (cut, {"text": word, "source": f"{clip} {a:.3f}-{b:.3f} s (Whisper word {start}-{end})"})
        )
    for text in ACK_TEXTS:
        for rate, pitch in VOICES:
            sounds.append(
                (
                    voices.say(text, rate, pitch),
                    {"text": text, "source": f"espeak-ng ko rate {rate} pitch {pitch}"},
                )
            )
    for index, (sound, info) in enumerate(sounds, start=1):
        rng = _rng(seed, "acks", index)
        level = round(float(rng.uniform(-26, -16)), 1)
        samples, onset = _over_prompt(rng, at_level(sound, level))
        file = f"ack_{index:02d}.wav"
        item = {"id": file.removesuffix(".wav"), "file": file, "kind": "ack", **info, "level_dbfs": level}
        item.update(onset_s=onset, sound_s=round(len(sound) / RATE, 3))
        items.append(_write(out_dir, file, samples, item))
    return items


def build_bargein(
    clips: list[SourceClip], words: dict, out_dir: Path, seed: int, voices: _Voices
) -> list[dict]:
    sounds: list[tuple[np.ndarray, dict]] = []
    for text in BARGE_TEXTS:
        for rate, pitch in BARGE_VOICES:
            sounds.append(
                (
                    voices.say(text, rate, pitch),
                    {"text": text, "source": f"espeak-ng ko rate {rate} pitch {pitch}"},
                )
            )
    # Real speech: the opening words of each clip, as a caller who starts a question over the prompt.
    for clip in clips:
        on, _ = _speech_span(clip)
        clip_words = words.get(clip.name, [])
        ends = [(w[2], i) for i, w in enumerate(clip_words[:-1]) if w[2] >= on + OPENING_MIN_S]
        if not ends:
            continue
        end, last = ends[0]
        cut = quietest_point(clip.samples, round((end + clip_words[last + 1][1]) / 2, 3))
        start = max(0.0, on - EDGE_S)
        sound = _fade(clip.samples[int(round(start * RATE)) : int(round(cut * RATE))], True, True)
        text = " ".join(w[0] for w in clip_words[: last + 1])
        sounds.append((sound, {"text": text, "source": f"{clip.name} {start:.3f}-{cut:.3f} s (first words)"}))
    items = []
    for index, (sound, info) in enumerate(sounds, start=1):
        rng = _rng(seed, "bargein", index)
        level = None
        if info["source"].startswith("espeak"):
            level = round(float(rng.uniform(-24, -16)), 1)
            sound = at_level(sound, level)
        samples, onset = _over_prompt(rng, sound)
        file = f"barge_{index:02d}.wav"
        item = {"id": file.removesuffix(".wav"), "file": file, "kind": "bargein", **info, "level_dbfs": level}
        item.update(onset_s=onset, sound_s=round(len(sound) / RATE, 3))
        items.append(_write(out_dir, file, samples, item))
    return items


def build_noise(out_dir: Path, seed: int) -> list[dict]:
    recipes: list[tuple[str, dict]] = [
        ("burst", {"ms": ms, "band": band})
        for ms, band in zip(
            (100, 160, 220, 280, 340, 400),
            ((300, 3400), (1000, 6000), (100, 1000), (300, 3400), (2000, 7000), (150, 2500)),
            strict=True,
        )
    ]
    recipes += [
        ("click", {"count": 1, "spread_ms": 0}),
        ("click", {"count": 3, "spread_ms": 120}),
        ("click", {"count": 5, "spread_ms": 300}),
    ]
    recipes += [
        ("cough", {"ms": 250, "times": 1}),
        ("cough", {"ms": 350, "times": 1}),
        ("cough", {"ms": 220, "times": 2}),
    ]
    items = []
    for index, (kind, spec) in enumerate(recipes, start=1):
        rng = _rng(seed, "noise", index)
        level = round(float(rng.uniform(-30, -14)), 1)
        if kind == "burst":
            sound = noise_burst(rng, spec["ms"] / 1000, *spec["band"])
            how = (
                f"{spec['ms']} ms noise burst, {spec['band'][0]}-{spec['band'][1]} Hz (4th-order Butterworth)"
            )
        elif kind == "click":
            sound = clicks(rng, spec["count"], spec["spread_ms"] / 1000)
            how = f"{spec['count']} click(s) of 3 ms over {spec['spread_ms']} ms"
        else:
            one = cough(rng, spec["ms"] / 1000)
            parts = [one]
            for _ in range(spec["times"] - 1):
                parts += [np.zeros(int(0.12 * RATE), np.float32), cough(rng, spec["ms"] / 1000)]
            sound = np.concatenate(parts)
            how = f"{spec['times']} cough(s) of {spec['ms']} ms: broadband onset, decay through 300-3400 Hz resonances"
        sound = at_level(sound, level) if kind != "click" else _peak(sound, level + 12)
        samples, onset = _over_prompt(rng, sound)
        file = f"noise_{index:02d}.wav"
        item = {"id": file.removesuffix(".wav"), "file": file, "kind": kind, "how": how, "level_dbfs": level}
        item.update(onset_s=onset, sound_s=round(len(sound) / RATE, 3))
        items.append(_write(out_dir, file, samples, item))
    return items


def _peak(samples: np.ndarray, peak_db: float) -> np.ndarray:
    return (samples / (np.abs(samples).max() + 1e-12) * 10 ** (peak_db / 20)).astype(np.float32)


def build(
    out_dir: Path,
    audio_dir: Path = SHARED_AUDIO,
    seed: int = SEED,
    sets: tuple[str, ...] = SETS,
    clip_names: list[str] | None = None,
    words: dict | None = None,
) -> dict:
    """Write the sets under ``out_dir`` and return their description (also written as ``sets.json``)."""
    out_dir = Path(out_dir)
    clips = load_sources(audio_dir, clip_names)
    if not clips:
        raise FileNotFoundError(f"no Korean clips in {audio_dir / 'manifest.tsv'}")
    words = load_words() if words is None else words
    voices = _Voices()
    built: dict[str, list[dict]] = {}
    for name in sets:
        target = out_dir / name
        target.mkdir(parents=True, exist_ok=True)
        for old in target.glob("*.wav"):
            old.unlink()
        if name == "multi":
            built[name] = build_multi(clips, words, target, seed)
        elif name == "acks":
            built[name] = build_acks(clips, words, target, seed, voices)
        elif name == "bargein":
            built[name] = build_bargein(clips, words, target, seed, voices)
        elif name == "noise":
            built[name] = build_noise(target, seed)
        else:
            raise ValueError(f"unknown set {name!r}; choose from {', '.join(SETS)}")
        (target / "items.json").write_text(json.dumps(built[name], ensure_ascii=False, indent=1) + "\n")
    description = {
        "version": VERSION,
        "seed": seed,
        "sources": {c.name: hashlib.sha256(c.samples.tobytes()).hexdigest()[:16] for c in clips},
        "sets": built,
    }
    (out_dir / "sets.json").write_text(json.dumps(description, ensure_ascii=False, indent=1) + "\n")
    return description


def load_set(directory: Path) -> list[dict]:
    """The items of one built set (``DIR/items.json``), each with its WAV's path as ``path``."""
    items = json.loads((directory / "items.json").read_text(encoding="utf-8"))
    return [{**item, "path": str(directory / item["file"])} for item in items]


def default_dir() -> Path:
    import os

    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "voicebot" / "turn-sets"


def ensure_built(out_dir: Path | None = None, audio_dir: Path = SHARED_AUDIO, seed: int = SEED) -> Path:
    """Build the sets into ``out_dir`` (default: the cache dir) unless the same version and seed are there."""
    out_dir = Path(out_dir or default_dir())
    marker = out_dir / "sets.json"
    if marker.is_file():
        existing = json.loads(marker.read_text(encoding="utf-8"))
        expected = (
            json.loads(DESCRIPTION_FILE.read_text(encoding="utf-8")) if DESCRIPTION_FILE.is_file() else None
        )
        current = existing.get("version") == VERSION and existing.get("seed") == seed
        if current and set(existing["sets"]) == set(SETS) and (seed != SEED or expected in (None, existing)):
            if all(
                (out_dir / s / i["file"]).is_file() for s, items in existing["sets"].items() for i in items
            ):
                return out_dir
    build(out_dir, audio_dir, seed)
    return out_dir


if __name__ == "__main__":  # the espeak-ng child of ``_Voices``: requests as JSON on stdin
    import sys

    if len(sys.argv) == 3 and sys.argv[1] == "--synthesize":
        _synthesize(json.load(sys.stdin), Path(sys.argv[2]))
    else:
        sys.exit("usage: scripts/make_turn_sets.py (this module's entry point is internal)")
