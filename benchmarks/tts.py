"""TTS benchmark: speed and intelligibility of 120 call-centre prompts at several engine settings.

    python -m benchmarks.tts [--model-dir /path/to/whisper-ct2] [--no-cer] [--rates 120,145,175] [--word-gaps 0,20]
        [--pitches 50] [--texts prompts|callers] [--limit N] [--json]

``--coverage`` reports instead, per flow, how much of what the bot says is recorded and the Whisper CER of
what it actually says, recordings included (``benchmarks.tts_coverage``; ``--prompts-dir``, ``--per-flow``,
``--clips``).

``--texts prompts`` (default) speaks the bot's 120 prompts; ``--texts callers`` speaks short caller
questions, as the simulated calls do when espeak plays the caller.

For each setting every prompt is synthesised (no cache) at the telephone rate, and we measure:
- RTF: synthesis time / audio duration of ``synthesize`` on the whole prompt;
- TTFA: time to the first chunk of ``stream`` (what a caller waits before hearing anything);
- CER: character error rate of the voicebot's recogniser (stt/, Whisper base with its hallucination
  guard) on the audio (upsampled to 16 kHz, so the band limit of the phone line is kept), both sides
  normalised with normalize_korean and compared without spaces or punctuation; a transcript longer
  than the reference can push one text's CER above 1. Whisper base is an imperfect listener of
  espeak's Korean voice, so compare settings, not absolutes.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from rapidfuzz.distance import Levenshtein

from media.audio import PIPELINE_RATE, TELEPHONY_RATE, resample
from tts import TTSConfig, create_synthesizer, normalize_korean
from tts.base import DEFAULT_PITCH

PROMPTS = [
    "안녕하십니까. 서울시 120다산콜센터입니다. 무엇을 도와드릴까요?",
    "코로나19 관련 문의는 0번, 교통은 1번, 상수도는 2번, 세금은 3번을 눌러주세요.",
    "상담원 연결은 9번, 처음으로 돌아가시려면 *을 눌러주세요.",
    "자세한 사항은 02-2133-1234로 문의해 주시기 바랍니다.",
    "신청 기간은 2026년 11월 23일부터 12월 4일까지입니다.",
    "평일 09:00~18:00에 운영하며, 주말과 공휴일은 휴무입니다.",
    "주차 요금은 10분당 500원이며, 하루 최대 35,000원입니다.",
    "접수하신 민원은 3일 이내에 담당 부서에서 연락드리겠습니다.",
    "휴대전화 010-1234-5678로 안내 문자를 보내 드렸습니다.",
    "재산세 납부 기한은 9월 30일이며, 기한이 지나면 3%의 가산금이 부과됩니다.",
    "지하철 2호선 시청역 4번 출구에서 걸어서 5분 거리에 있습니다.",
    "QR 코드를 찍으시면 모바일로 간편하게 신청하실 수 있습니다.",
    "오늘 서울의 미세먼지 농도는 35㎍/㎥로 보통 수준입니다.",
    "만 65세 이상 어르신은 동반자 2명까지 무료로 이용하실 수 있습니다.",
    "통화가 끝나면 간단한 만족도 조사가 있습니다. 이용해 주셔서 감사합니다.",
]


# What callers say: the simulated calls use espeak speech for the caller side.
CALLER_QUESTIONS = [
    "지갑을 버스에 두고 내렸어요.",
    "수도 요금은 어떻게 내나요?",
    "상담원 연결해 주세요.",
    "여권 재발급은 어디서 하나요?",
    "불법 주차 신고하려고 하는데요.",
    "코로나 예방 접종 예약하고 싶어요.",
]
TEXT_SETS = {"prompts": PROMPTS, "callers": CALLER_QUESTIONS}


def load_whisper(model_dir: Path | None):  # -> stt.Transcriber
    """The voicebot's own recogniser (faster-whisper, CPU int8, adaptive window, hallucination guard),
    so the CER is what the call session would hear; ``model_dir`` overrides where the weights are found."""
    from stt import STTConfig, create_transcriber

    return create_transcriber(  # Korean throughout: Whisper base hears espeak-ng's Korean as Thai at times
        STTConfig(
            backend="faster-whisper",
            model_path=str(model_dir) if model_dir else None,
            language="ko",
            language_switch=None,
        )
    )


def transcribe(model, samples: np.ndarray, sample_rate: int) -> str:
    audio = resample(samples, sample_rate, PIPELINE_RATE)
    return model.transcribe(audio, language="ko").text.strip()


def _comparable(text: str) -> str:
    return re.sub(r"[^가-힣A-Za-z]", "", normalize_korean(text)).lower()


def character_error_rate(reference: str, hypothesis: str) -> float:
    """Edit distance over characters of the normalised texts, ignoring spaces and punctuation."""
    ref, hyp = _comparable(reference), _comparable(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    return Levenshtein.distance(ref, hyp) / len(ref)


@dataclass
class PromptResult:
    text: str
    duration_s: float
    rtf: float
    ttfa_s: float
    cer: float | None
    transcript: str | None


@dataclass
class SettingResult:
    engine: str
    rate_wpm: int
    word_gap_ms: int
    pitch: int
    sample_rate: int
    mean_cer: float | None
    median_cer: float | None
    mean_rtf: float
    mean_ttfa_s: float
    max_ttfa_s: float
    total_audio_s: float
    prompts: list[PromptResult]


def run_setting(config: TTSConfig, sample_rate: int, whisper, prompts: list[str]) -> SettingResult:
    synthesizer = create_synthesizer(config)
    synthesizer.synthesize("준비", sample_rate)  # load the engine before timing
    results = []
    for text in prompts:
        started = time.perf_counter()
        first = next(iter(synthesizer.stream(text, sample_rate)))
        ttfa = time.perf_counter() - started
        del first
        started = time.perf_counter()
        speech = synthesizer.synthesize(text, sample_rate)
        rtf = (time.perf_counter() - started) / speech.duration_s
        transcript = transcribe(whisper, speech.samples, sample_rate) if whisper is not None else None
        cer = character_error_rate(text, transcript) if transcript is not None else None
        results.append(PromptResult(text, speech.duration_s, rtf, ttfa, cer, transcript))
    cers = [r.cer for r in results if r.cer is not None]
    return SettingResult(
        engine=config.engine,
        rate_wpm=config.rate_wpm,
        word_gap_ms=config.word_gap_ms,
        pitch=config.pitch,
        sample_rate=sample_rate,
        mean_cer=statistics.fmean(cers) if cers else None,
        median_cer=statistics.median(cers) if cers else None,
        mean_rtf=statistics.fmean(r.rtf for r in results),
        mean_ttfa_s=statistics.fmean(r.ttfa_s for r in results),
        max_ttfa_s=max(r.ttfa_s for r in results),
        total_audio_s=sum(r.duration_s for r in results),
        prompts=results,
    )


def _ints(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def _print_row(s: SettingResult, show_transcripts: bool) -> None:
    cer = f"{s.mean_cer:6.3f}" if s.mean_cer is not None else "     -"
    med = f"{s.median_cer:6.3f}" if s.median_cer is not None else "     -"
    print(
        f"{s.engine:8} {s.rate_wpm:4d} {s.word_gap_ms:4d} {s.pitch:5d} {s.sample_rate:6d} {cer} {med} "
        f"{s.mean_rtf:7.4f} {s.mean_ttfa_s * 1000:8.1f} {s.total_audio_s:8.1f}",
        flush=True,
    )
    if show_transcripts:
        for r in s.prompts:
            cer = f"{r.cer:.2f}" if r.cer is not None else "-"
            print(f"    {cer:>5}  {r.text}  ->  {r.transcript}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--model-dir",
        type=Path,
        help="faster-whisper (CTranslate2) model directory (default: the one `voicebot models list` shows)",
    )
    parser.add_argument("--no-cer", action="store_true", help="speed only: skip Whisper")
    parser.add_argument("--engine", default="espeak")
    parser.add_argument(
        "--rates", type=_ints, default=[120, 145, 175], help="espeak words per minute, comma-separated"
    )
    parser.add_argument(
        "--word-gaps", type=_ints, default=[0], help="extra pause between words in ms, comma-separated"
    )
    parser.add_argument(
        "--pitches", type=_ints, default=[DEFAULT_PITCH], help="espeak pitch 0-100, comma-separated"
    )
    parser.add_argument(
        "--texts", choices=sorted(TEXT_SETS), default="prompts", help="bot prompts or caller questions"
    )
    parser.add_argument(
        "--show-transcripts", action="store_true", help="print what Whisper heard for each text"
    )
    parser.add_argument("--sample-rate", type=int, default=TELEPHONY_RATE)
    parser.add_argument("--limit", type=int, default=None, help="use only the first N texts")
    parser.add_argument("--json", action="store_true", help="print the full results as JSON")
    parser.add_argument("--coverage", action="store_true", help="recorded coverage and CER per flow")
    parser.add_argument("--prompts-dir", type=Path, help="prompt library (default: var/prompts)")
    parser.add_argument("--per-flow", type=int, default=8, help="--coverage: sentences said per flow")
    parser.add_argument("--clips", type=Path, help="--coverage: real clips (manifest.tsv) as recordings")
    args = parser.parse_args(argv)
    if args.coverage:
        from benchmarks.tts_coverage import Listener, run

        listener = None
        if not args.no_cer:
            listener = Listener(load_whisper(args.model_dir), transcribe, character_error_rate)
        return run(args.prompts_dir, args.per_flow, listener, args.clips, args.limit or 6, args.json)

    whisper = None if args.no_cer else load_whisper(args.model_dir)
    prompts = TEXT_SETS[args.texts][: args.limit]
    if not args.json:
        print(
            f"{'engine':8} {'wpm':>4} {'gap':>4} {'pitch':>5} {'Hz':>6} {'CER':>6} {'medCER':>6} "
            f"{'RTF':>7} {'TTFA ms':>8} {'audio s':>8}",
            flush=True,
        )
    settings = []
    for rate in args.rates:
        for gap in args.word_gaps:
            for pitch in args.pitches:
                config = TTSConfig(
                    engine=args.engine,
                    rate_wpm=rate,
                    word_gap_ms=gap,
                    pitch=pitch,
                    use_cache=False,
                    use_prompts=False,
                )
                result = run_setting(config, args.sample_rate, whisper, prompts)
                settings.append(result)
                if not args.json:
                    _print_row(result, args.show_transcripts)
    if args.json:
        json.dump([asdict(s) for s in settings], sys.stdout, ensure_ascii=False, indent=2)
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
