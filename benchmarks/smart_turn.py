"""Would Pipecat's Smart Turn v3 tell a finished Korean sentence from one cut short? (issue 14)

Smart Turn v3 (BSD-2) is an ONNX audio model that scores the last 8 s of a caller's speech for "turn
complete". It ships inside the ``pipecat-ai`` wheel; this script takes the file from a wheel you fetched
(nothing is downloaded here) and runs it with onnxruntime on the Korean shared clips, whole and cut at a
fraction of their length, with Whisper's log-mel features from faster-whisper's feature extractor::

    pip download pipecat-ai==1.14.0 --no-deps -d /tmp/pc
    unzip -o /tmp/pc/pipecat_ai-1.14.0-py3-none-any.whl 'pipecat/audio/turn/smart_turn/data/*' -d /tmp/pc
    python -m benchmarks.smart_turn --model /tmp/pc/pipecat/audio/turn/smart_turn/data/smart-turn-v3.2-cpu.onnx

It prints per clip the probability of "complete" for the whole sentence and for the cut one, and how
many of each it gets right at 0.5; with ``--ours`` also what ``DialogSession.turn_status`` (the words
signal the call uses, on faster-whisper's transcript of the same audio) says of each.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path

import numpy as np

from benchmarks.stt import SHARED_AUDIO, load_clips

SAMPLES = 8 * 16_000


class SmartTurn:
    def __init__(self, path: Path):
        import onnxruntime as ort
        from faster_whisper.feature_extractor import FeatureExtractor

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), sess_options=options)
        self.features = FeatureExtractor(
            feature_size=80, sampling_rate=16_000, hop_length=160, chunk_length=8
        )

    def complete(self, samples: np.ndarray) -> tuple[float, float]:
        """(probability the turn is complete, milliseconds) for 16 kHz speech ending now."""
        audio = np.asarray(samples, np.float32)[-SAMPLES:]
        audio = np.pad(audio, (SAMPLES - len(audio), 0))
        audio = (audio - audio.mean()) / np.sqrt(audio.var() + 1e-7)
        features = self.features(audio, padding=0)[:, :800]
        features = np.pad(features, ((0, 0), (0, 800 - features.shape[1])))
        started = time.perf_counter()
        output = self.session.run(None, {"input_features": features[None].astype(np.float32)})
        return float(output[0][0].item()), (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--model", required=True, type=Path, help="smart-turn-v3.x ONNX file from a pipecat-ai wheel"
    )
    parser.add_argument("--cut", type=float, default=0.6, help="keep this fraction of each sentence")
    parser.add_argument("--audio-dir", type=Path, default=SHARED_AUDIO)
    parser.add_argument("--ours", action="store_true", help="also the words signal (Whisper + turn_status)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    model = SmartTurn(args.model)
    words = None
    if args.ours:
        from dialog import load_default_engine
        from stt import create_transcriber

        transcriber, dialog = create_transcriber(), load_default_engine().new_session("bench")

        def words(samples: np.ndarray) -> str:
            text = transcriber.transcribe(samples, language="ko").text
            return str(dialog.turn_status(text))

    rows = []
    for name, language, _, speech in load_clips(args.audio_dir):
        if language != "ko":
            continue
        voiced = np.flatnonzero(np.abs(speech) > 0.02)
        speech = speech[: voiced[-1] + 1]
        pause = np.zeros(3_200, np.float32)  # the 200 ms pause at which the endpointer would ask
        whole, ms = model.complete(np.concatenate([speech, pause]))
        cut, _ = model.complete(np.concatenate([speech[: int(len(speech) * args.cut)], pause]))
        row = {"clip": Path(name).stem, "whole": round(whole, 3), "cut": round(cut, 3), "ms": round(ms, 1)}
        if words is not None:
            row["words_whole"] = words(speech)
            row["words_cut"] = words(speech[: int(len(speech) * args.cut)])
        rows.append(row)
    summary = {
        "model_sha256": hashlib.sha256(args.model.read_bytes()).hexdigest(),
        "whole_called_complete": sum(r["whole"] > 0.5 for r in rows),
        "cut_called_incomplete": sum(r["cut"] <= 0.5 for r in rows),
        "clips": len(rows),
        "inference_ms_p50": float(np.median([r["ms"] for r in rows])),
    }
    if words is not None:
        summary["words_whole_not_held_open"] = sum(r["words_whole"] != "incomplete" for r in rows)
        summary["words_cut_held_open"] = sum(r["words_cut"] == "incomplete" for r in rows)
        summary["words_cut_closed_early"] = sum(r["words_cut"] == "complete" for r in rows)
    if args.json:
        print(json.dumps({"rows": rows, "summary": summary}, ensure_ascii=False))
        return
    for r in rows:
        ours = f"  words: {r['words_whole']} / {r['words_cut']}" if "words_cut" in r else ""
        print(f"{r['clip']:>28}  whole {r['whole']:.2f}  cut {r['cut']:.2f}  ({r['ms']:.0f} ms){ours}")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
