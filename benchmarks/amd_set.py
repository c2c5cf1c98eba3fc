"""The labelled answered-call set for answering-machine detection (issue 16): what the callee's side of an
outbound call sounds like from the moment it is answered.

``scripts/make_amd_set.py`` is the command; ``python -m benchmarks.amd`` builds the set when it is missing.
``build(out_dir)`` writes 16 kHz mono WAVs and ``items.json`` (every item: its label, how it was made and
its marks) under ``out_dir`` (default ``~/.cache/voicebot/amd-set``; a few MB, not committed).

Machines (label voicemail, carrier_message or screened): real Korean carrier, network-voicemail and
call-screening sentences (:data:`MACHINE_TEXTS`) said by espeak-ng's Korean voice through the project's
TTS (``tts.create_synthesizer(tts.TTSConfig(rate_wpm=..., pitch=...))``, the default voice and two
others), after 0.1-0.9 s of line silence. A voicemail greeting ends with a pause and a beep (400-1,400 Hz,
0.25-0.8 s) and then the silence of the recording; a carrier announcement is said once or twice, 1 s
apart, and then the line is silent (a real network then hangs up); a screening prompt ends and waits.

Humans (label human): real Korean speech from ``../shared/audio`` (the 11 Korean clips, read by real
speakers), cut at Whisper's word boundaries (``tests/data/turns/words.json``) to the opening one or two
words with 0.35-1.4 s of voice: the length of a "여보세요" or "네, 여보세요". The person picks up, is
silent for 0.2-1.6 s, says the greeting and waits; some say it again after 2-3 s of silence ("여보세요?").
The clips hold no "여보세요" (they are read news and prose), so the words are other words; what the
detector's timing sees is a real voice of a greeting's length. Whisper reads them as what they are, none
of them a carrier phrase.

Every item gets line noise (white hiss at -66 to -50 dBFS, on some a 60 Hz hum), and every third item goes
through the telephone path (8 kHz, G.711 mu-law, back to 16 kHz) as a SIP call would. Randomness is seeded
per item (``SeedSequence([seed, index])``); espeak-ng runs in one fresh child process per build, always on
the same request list, so the same seed gives the same files.

Marks: ``speech_end_s`` (humans: the end of the first greeting, from the cut), ``beep_s`` / ``beep_end_s``
(voicemail), ``announcement_end_s`` (machines: the end of the first saying).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from benchmarks.stt import SHARED_AUDIO
from media.audio import PIPELINE_RATE, float_to_pcm16, load_audio, pcm16_to_float, resample, write_wav
from media.codecs import ulaw_decode, ulaw_encode

REPO = Path(__file__).resolve().parents[1]
WORDS_FILE = REPO / "tests" / "data" / "turns" / "words.json"
VERSION = 1
SEED = 16
RATE = PIPELINE_RATE

# Real announcements and greetings, as Korean networks and phones say them.
MACHINE_TEXTS: dict[str, tuple[str, ...]] = {
    "voicemail": (
        "고객이 전화를 받을 수 없어 삐 소리 후 소리샘으로 연결됩니다. 통화료가 부과됩니다.",
        "연결이 되지 않아 음성사서함으로 연결되오며, 삐 소리 후 통화료가 부과됩니다.",
        "지금 거신 전화는 전원이 꺼져 있어 삐 소리 후 음성사서함으로 연결됩니다.",
        "안녕하세요, 김민수입니다. 지금은 전화를 받을 수 없습니다. 메시지를 남겨 주시면 연락드리겠습니다.",
        "지금은 통화할 수 없습니다. 삐 소리가 나면 이름과 용건을 남겨 주세요.",
        "고객님의 전화기가 꺼져 있어 소리샘으로 연결됩니다. 삐 소리가 나면 메시지를 남겨 주세요.",
    ),
    "carrier_message": (
        "지금 거신 번호는 없는 번호입니다. 다시 확인하시고 걸어 주시기 바랍니다.",
        "지금 거신 전화는 전원이 꺼져 있습니다. 잠시 후 다시 걸어 주시기 바랍니다.",
        "지금 거신 전화는 사용자의 요청으로 당분간 착신이 정지되어 있습니다.",
        "고객님의 사정으로 연결이 되지 않습니다. 잠시 후 다시 걸어 주십시오.",
        "지금 거신 번호는 결번이오니 확인하시고 다시 걸어 주시기 바랍니다.",
    ),
    "screened": (
        "안녕하세요, 빅스비 텍스트콜입니다. 전화 받으신 분께 전달해 드릴게요. 용건을 말씀해 주세요.",
        "통화 전에 누구신지, 그리고 통화 목적을 말씀해 주시면 전달해 드리겠습니다.",
    ),
}
# espeak-ng voices (rate in words per minute, pitch 0-100): the project's default, slower and lower, faster.
VOICES = ((145, 50), (120, 40), (190, 65))
# How many items of each label: half of the set machines.
COUNTS = {"voicemail": 12, "carrier_message": 9, "screened": 3, "human": 24}
HUMAN_VOICE_S = (0.35, 1.4)


def default_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "voicebot" / "amd-set"


def _rng(seed: int, index: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, index]))


def _requests() -> list[tuple[str, int, int]]:
    return [
        (t, r, p)
        for label in ("voicemail", "carrier_message", "screened")
        for t in MACHINE_TEXTS[label]
        for r, p in VOICES
    ]


def _synthesize_child(requests: list[list], out: Path) -> None:
    from tts import TTSConfig, create_synthesizer

    synths: dict[tuple[int, int], object] = {}
    sounds = {}
    for i, (text, rate, pitch) in enumerate(requests):
        if (rate, pitch) not in synths:
            synths[rate, pitch] = create_synthesizer(TTSConfig(rate_wpm=rate, pitch=pitch, use_cache=False))
        sounds[f"s{i}"] = synths[rate, pitch].synthesize(text, sample_rate=RATE).samples
    np.savez(out, **sounds)


def synthesize_all() -> dict[tuple[str, int, int], np.ndarray]:
    """Every machine sentence in every voice, made in one fresh espeak-ng process (deterministic)."""
    requests = _requests()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "speech.npz"
        subprocess.run(
            [sys.executable, "-m", "benchmarks.amd_set", "--synthesize", str(out)],
            input=json.dumps(requests),
            text=True,
            check=True,
            cwd=REPO,
            capture_output=True,
        )
        with np.load(out) as data:
            return {req: trim(data[f"s{i}"]) for i, req in enumerate(requests)}


def trim(samples: np.ndarray, margin_s: float = 0.02) -> np.ndarray:
    loud = np.nonzero(np.abs(samples) >= 0.01 * np.abs(samples).max())[0]
    margin = int(margin_s * RATE)
    return samples[max(0, loud[0] - margin) : loud[-1] + 1 + margin].astype(np.float32)


def active_rms_db(samples: np.ndarray) -> float:
    size = RATE // 50
    frames = [samples[i : i + size] for i in range(0, len(samples) - size + 1, size)] or [samples]
    rms = np.array([np.sqrt(np.mean(np.square(f, dtype=np.float64))) for f in frames])
    loud = rms[rms >= rms.max() * 0.1]
    return float(20 * np.log10(np.sqrt(np.mean(loud**2)) + 1e-12))


def at_level(samples: np.ndarray, level_db: float) -> np.ndarray:
    gain = 10 ** ((level_db - active_rms_db(samples)) / 20)
    return np.clip(samples * gain, -1.0, 1.0).astype(np.float32)


def tone(freq_hz: float, seconds: float, level_db: float = -16.0) -> np.ndarray:
    """A beep: a sine with 5 ms ramps."""
    t = np.arange(int(seconds * RATE)) / RATE
    out = np.sin(2 * np.pi * freq_hz * t) * (10 ** (level_db / 20) * np.sqrt(2))
    ramp = int(0.005 * RATE)
    out[:ramp] *= np.linspace(0, 1, ramp)
    out[-ramp:] *= np.linspace(1, 0, ramp)
    return out.astype(np.float32)


def line_noise(rng: np.random.Generator, n: int, hiss_db: float, hum: bool) -> np.ndarray:
    noise = rng.normal(0.0, 10 ** (hiss_db / 20), n)
    if hum:
        t = np.arange(n) / RATE
        noise += 10 ** ((hiss_db + 6) / 20) * np.sin(2 * np.pi * 60 * t + rng.uniform(0, 6.28))
    return noise.astype(np.float32)


def telephone(samples: np.ndarray) -> np.ndarray:
    """8 kHz G.711 mu-law and back, as a SIP call carries it."""
    narrow = resample(samples, RATE, 8_000)
    coded = pcm16_to_float(ulaw_decode(ulaw_encode(float_to_pcm16(narrow))))
    return resample(coded, 8_000, RATE).astype(np.float32)


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(round(seconds * RATE)), np.float32)


# -- humans --------------------------------------------------------------------------------------------


def load_words() -> dict[str, list[list]]:
    return json.loads(WORDS_FILE.read_text(encoding="utf-8"))["clips"]


def human_cuts(audio_dir: Path = SHARED_AUDIO) -> list[dict]:
    """Greeting-length openings of the real Korean clips: the first word, and the first two words, when
    their voice lasts 0.35-1.4 s; cut at Whisper's word boundaries and trimmed to the sound."""
    words = load_words()
    cuts = []
    with open(audio_dir / "manifest.tsv", encoding="utf-8") as handle:
        header = handle.readline().rstrip("\n").split("\t")
        rows = [dict(zip(header, line.rstrip("\n").split("\t"), strict=False)) for line in handle]
    for row in rows:
        if row.get("language") != "ko" or row["file"] not in words:
            continue
        audio = load_audio(audio_dir / row["file"])
        samples = resample(audio.samples, audio.sample_rate, RATE)
        clip_words = words[row["file"]]
        for count in (1, 2):
            if len(clip_words) < count:
                continue
            end_s = clip_words[count - 1][2]
            piece = samples[: int(end_s * RATE)]
            if np.abs(piece).max() <= 0:
                continue
            piece = trim(piece)
            voice_s = len(piece) / RATE
            if HUMAN_VOICE_S[0] <= voice_s <= HUMAN_VOICE_S[1]:
                text = " ".join(w[0] for w in clip_words[:count])
                cuts.append({"clip": row["file"], "words": count, "text": text, "samples": piece})
    return cuts


# -- the set -------------------------------------------------------------------------------------------


def _machine(index: int, label: str, number: int, speech: dict, seed: int) -> tuple[np.ndarray, dict]:
    rng = _rng(seed, index)
    texts = MACHINE_TEXTS[label]
    text = texts[number % len(texts)]
    rate, pitch = VOICES[(number // len(texts) + number) % len(VOICES)]
    said = at_level(speech[(text, rate, pitch)], float(rng.uniform(-24, -14)))
    lead = float(rng.uniform(0.1, 0.9))
    parts = [silence(lead), said]
    item: dict = {"text": text, "voice": [rate, pitch], "lead_s": round(lead, 3)}
    item["announcement_end_s"] = round(lead + len(said) / RATE, 3)
    if label == "voicemail":
        gap = float(rng.uniform(0.3, 0.8))
        freq = float(rng.choice([425.0, 800.0, 1000.0, 1200.0, 1400.0]))
        length = float(rng.uniform(0.25, 0.8))
        beep_at = lead + len(said) / RATE + gap
        parts += [silence(gap), tone(freq, length, float(rng.uniform(-20, -12))), silence(3.0)]
        item.update(beep_s=round(beep_at, 3), beep_end_s=round(beep_at + length, 3), beep_hz=freq)
    elif label == "carrier_message":
        repeats = 1 + int(rng.integers(0, 2))
        for _ in range(repeats - 1):
            parts += [silence(1.0), said]
        parts.append(silence(2.5))
        item["repeats"] = repeats
    else:  # screening: the prompt, then it waits for the caller
        parts.append(silence(4.0))
    return np.concatenate(parts), item


def _human(index: int, cuts: list[dict], number: int, seed: int) -> tuple[np.ndarray, dict]:
    rng = _rng(seed, index)
    cut = cuts[number % len(cuts)]
    level = float(rng.uniform(-26, -16))
    greeting = at_level(cut["samples"], level)
    lead = float(rng.uniform(0.2, 1.6))
    parts = [silence(lead), greeting]
    item: dict = {
        "clip": cut["clip"],
        "words": cut["words"],
        "text": cut["text"],
        "lead_s": round(lead, 3),
        "speech_end_s": round(lead + len(greeting) / RATE, 3),
    }
    if number % 3 == 1:  # "여보세요? … 여보세요?": the greeting again after waiting
        again = float(rng.uniform(2.0, 3.0))
        parts += [silence(again), greeting]
        item["again_after_s"] = round(again, 3)
    parts.append(silence(3.0))
    return np.concatenate(parts), item


def build(out_dir: Path | None = None, audio_dir: Path = SHARED_AUDIO, seed: int = SEED) -> list[dict]:
    out_dir = Path(out_dir or default_dir())
    out_dir.mkdir(parents=True, exist_ok=True)
    speech = synthesize_all()
    cuts = human_cuts(audio_dir)
    if not cuts:
        raise RuntimeError(f"no Korean clips with word timestamps in {audio_dir}")
    items = []
    index = 0
    for label in ("voicemail", "carrier_message", "screened", "human"):
        for number in range(COUNTS[label]):
            if label == "human":
                samples, item = _human(index, cuts, number, seed)
            else:
                samples, item = _machine(index, label, number, speech, seed)
            rng = _rng(seed, 10_000 + index)
            hiss = float(rng.uniform(-66, -50))
            hum = bool(rng.random() < 0.3)
            samples = samples + line_noise(rng, len(samples), hiss, hum)
            phone = index % 3 == 2
            if phone:
                samples = telephone(samples)
            samples = np.clip(samples, -1.0, 1.0)
            file = f"{index:02d}_{label}.wav"
            path = write_wav(out_dir / file, samples, RATE)
            item = {
                "file": file,
                "label": label,
                **item,
                "noise_dbfs": round(hiss, 1),
                "hum": hum,
                "telephone": phone,
                "duration_s": round(len(samples) / RATE, 3),
                "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            }
            items.append(item)
            index += 1
    description = {"version": VERSION, "seed": seed, "items": items}
    (out_dir / "items.json").write_text(json.dumps(description, ensure_ascii=False, indent=1) + "\n")
    return items


def ensure_built(out_dir: Path | None = None, audio_dir: Path = SHARED_AUDIO, seed: int = SEED) -> Path:
    """Build the set into ``out_dir`` unless the same version and seed are there with every file."""
    out_dir = Path(out_dir or default_dir())
    marker = out_dir / "items.json"
    if marker.is_file():
        existing = json.loads(marker.read_text(encoding="utf-8"))
        if existing.get("version") == VERSION and existing.get("seed") == seed:
            if all((out_dir / i["file"]).is_file() for i in existing["items"]):
                return out_dir
    build(out_dir, audio_dir, seed)
    return out_dir


def load_items(out_dir: Path) -> list[dict]:
    items = json.loads((Path(out_dir) / "items.json").read_text(encoding="utf-8"))["items"]
    return [{**item, "path": str(Path(out_dir) / item["file"])} for item in items]


if __name__ == "__main__":  # the espeak-ng child of ``synthesize_all``: requests as JSON on stdin
    if len(sys.argv) == 3 and sys.argv[1] == "--synthesize":
        _synthesize_child(json.load(sys.stdin), Path(sys.argv[2]))
    else:
        sys.exit("usage: scripts/make_amd_set.py (this module's entry point is internal)")
