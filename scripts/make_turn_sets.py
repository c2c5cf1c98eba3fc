#!/usr/bin/env python3
"""Build the turn-taking sets of issue 14 from the real recordings in ../shared/audio and audio made here.

    .venv/bin/python scripts/make_turn_sets.py [OUT_DIR] [--audio-dir DIR] [--seed 14] [--sets multi,acks,...]
        [--recompute-words] [--write-description]

OUT_DIR defaults to ~/.cache/voicebot/turn-sets (``$XDG_CACHE_HOME`` respected); the WAVs are a few
tens of MB and are not committed. What is committed is small: ``tests/data/turns/words.json`` (the word
timestamps the builder cuts at) and ``tests/data/turns/sets.json`` (every item: how it was made, its
marks and the SHA-256 of its WAV), which ``tests/test_turn_sets.py`` checks a fresh build against.
The same seed gives the same files, byte for byte (espeak-ng carries state from one utterance to the
next inside a process, so all synthesis runs in one fresh child process, always the same list in the
same order). ``benchmarks.latency`` builds the sets itself when they are missing.

Sources: the 11 Korean clips of ``../shared/audio/manifest.tsv`` (language ko; 10 Zeroth-Korean read
sentences and one Picovoice clip), their word timestamps, espeak-ng's Korean voice through the project's
TTS (``tts.create_synthesizer(tts.TTSConfig(rate_wpm=..., pitch=...))``), and seeded noise
(``numpy.random.SeedSequence([seed, set, item])``). All files are 16 kHz mono 16-bit.

Marks: a fresh webrtcvad (``media.vad.WebRtcVad``, 20 ms frames) on each written file read back with
``load_audio``, exactly as ``benchmarks.latency`` scores a clip: ``speech_end_s`` is the end of the last
voiced frame (the caller's true end of turn), ``speech_onset_s`` the first frame that starts 200 ms with
at least 120 ms voiced, ``voiced_gap_ms`` the unvoiced run around an inserted pause.

Sets (directories under OUT_DIR):

``multi/`` (``ko_*.wav`` + ``manifest.tsv`` in the shared format, so ``--audio-dir`` and the Pipecat
anchor take it as they take ../shared/audio) -- one caller turn that is not one plain sentence:
  - ``ko_join_*``: two different clips joined (10 turns; each clip used at most twice, at most 16 s of
    speech). The first is kept to 40 ms after its last voiced frame and the second from 40 ms before its
    first sustained voiced frame, with room tone (Gaussian noise at the clips' own floor, about
    -79 dBFS, below webrtcvad's -50 dBFS gate) between, so the pause between voiced frames is 300, 500,
    700, 1000 or 1500 ms (in turn). Transcript: both transcripts.
  - ``ko_pause_*``: one clip with room tone inserted (300-1500 ms, the same five lengths in a seeded
    order) at a word boundary: Whisper's boundary between two words, moved to the quietest 10 ms within
    100 ms of it, one boundary drawn from 25-50 % and one from 50-75 % of the sentence (22 turns).
    Recorded: the cut, the words before it, the inserted length and the measured voiced gap.
  Each item records ``speech_end_s``: a reply that starts before it is premature.

``acks/`` -- short acknowledgements to be played over the bot's prompt, which starts at 0 s:
  - real ones: any word of the clips Whisper read as 네 / 예 / 응 / 음 / 아 / 어 / 그렇죠 / 네네 / 예예 /
    그래요 / 맞아요, cut at the quietest points near its word timestamps. The shared clips are read news
    and prose and hold none, so today this part is empty;
  - synthesized: 네, 예, 응, 음, 아, 그렇죠, 네네, 아 네, each in three espeak-ng voices (rate 120 pitch
    35, rate 145 pitch 50, rate 190 pitch 70), trimmed to the sound, at -26 to -16 dBFS (seeded).
    Whisper base reads the one-syllable ones right and garbles 그렇죠 (benchmarks/README.md).
  Each sits alone at a seeded onset between 1.5 and 8 s (``onset_s``), followed by 3 s of silence.

``bargein/`` -- real barge-ins over the prompt, placed the same way:
  - synthesized: 잠깐만요, 아니요 그게 아니라, 저기요 잠깐만요, 상담원 연결해 주세요, 아니요 그게 아니라 버스
    요금이요, in two voices (rate 145 pitch 50, rate 190 pitch 70), -24 to -16 dBFS;
  - real speech: the opening words of each clip (from 40 ms before its first voiced frame to the first
    word boundary at least 1.2 s in), at the recording's own level.
  ``speech_onset_s`` is what the reaction time is measured from.

``noise/`` -- sounds that are not speech, over the prompt: six band-limited noise bursts (100, 160, 220,
280, 340, 400 ms; bands from 100-1000 to 2000-7000 Hz), three click patterns (1 click, 3 over 120 ms, 5
over 300 ms), three coughs (250 ms, 350 ms, and two of 220 ms 120 ms apart: an explosive broadband onset
and a decay through 300-3400 Hz resonances), at -30 to -14 dBFS (clicks by peak).

``--recompute-words`` reruns Whisper base (faster-whisper, ``word_timestamps=True``, beam 5, on the
weights ``models`` finds locally; nothing is downloaded) and rewrites ``tests/data/turns/words.json``;
``--write-description`` copies the new ``sets.json`` to ``tests/data/turns/sets.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import turn_sets  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", nargs="?", type=Path, default=turn_sets.default_dir())
    parser.add_argument("--audio-dir", type=Path, default=turn_sets.SHARED_AUDIO)
    parser.add_argument("--seed", type=int, default=turn_sets.SEED)
    parser.add_argument("--sets", default=",".join(turn_sets.SETS), help="comma-separated subset")
    parser.add_argument("--recompute-words", action="store_true", help="rerun Whisper for word timestamps")
    parser.add_argument(
        "--write-description", action="store_true", help="copy sets.json to tests/data/turns/sets.json"
    )
    args = parser.parse_args(argv)
    if not (args.audio_dir / "manifest.tsv").is_file():
        print(f"error: no manifest.tsv in {args.audio_dir}", file=sys.stderr)
        return 1
    if args.recompute_words:
        words = turn_sets.compute_words(turn_sets.load_sources(args.audio_dir))
        turn_sets.WORDS_FILE.parent.mkdir(parents=True, exist_ok=True)
        turn_sets.WORDS_FILE.write_text(turn_sets.dump_words(words), encoding="utf-8")
        print(f"wrote {turn_sets.WORDS_FILE}", file=sys.stderr)
    sets = tuple(s.strip() for s in args.sets.split(",") if s.strip())
    description = turn_sets.build(args.out_dir, args.audio_dir, args.seed, sets)
    if args.write_description:
        turn_sets.DESCRIPTION_FILE.write_text(
            json.dumps(description, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )
        print(f"wrote {turn_sets.DESCRIPTION_FILE}", file=sys.stderr)
    for name, items in description["sets"].items():
        print(f"{name:8} {len(items):3} items in {args.out_dir / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
