"""The two Whisper backends behind one ``Transcriber`` interface.

Both run one utterance (or a whole file) to a ``Transcript``. For utterances up to 30 s the encoder window
follows ``STTConfig.window``: Whisper pads every input to 30 s, and the encoder's cost is proportional to
the window, so "adaptive" uses max(min_window_s, audio + tail_pad_s), or short_window_s (10 s) when that
holds the utterance and its 3 s of trailing silence. Trimming the window to the utterance itself makes
Korean decoding loop; a 10 s floor with 3 s of trailing silence does not, and 8 s already lost words
(benchmarks/stt.py and benchmarks/latency.py measure them).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from media.audio import PIPELINE_RATE
from models import find_whisper_model
from stt.guard import filter_segments, speech_rms
from stt.language import LanguageChoice, choose_language
from stt.types import Segment, STTConfig, STTError, Transcript

log = logging.getLogger(__name__)

SILENCE_RMS = 1e-4  # below this the input is digital silence: skip the model entirely
FULL_WINDOW_S = 30.0


class Transcriber(Protocol):
    name: str
    config: STTConfig

    @property
    def in_flight(self) -> int:
        """Decodes running or waiting on this model (calls sharing it see it is busy); 0 when idle."""
        ...

    def transcribe(
        self,
        samples: np.ndarray,
        language: str | None = None,
        prompt: str | None = None,
        beam_size: int | None = None,
        window: str | None = None,
        prefix: str | None = None,
    ) -> Transcript:
        """``prefix``: text already known to start the utterance (from an earlier decode of the same
        audio); the decoder takes it as given and only generates the rest. The result includes it."""
        ...


# Korean speech runs up to about 8 syllables a second and Whisper spends at most about 2.5 tokens on one:
# a short utterance decoded into more tokens than this is a hallucination loop (a 0.3 s "네네" once took
# 10 s of temperature fallback). Only short utterances are capped, so prompt + cap stays within the model.
TOKENS_PER_S = 30
_MIN_TOKENS = 16
_MAX_CAP = 100


def token_cap(audio_s: float) -> int | None:
    """The most tokens an utterance of ``audio_s`` seconds can need, or None (no cap) for long ones."""
    cap = _MIN_TOKENS + int(TOKENS_PER_S * audio_s)
    return cap if cap < _MAX_CAP else None


def window_seconds(audio_s: float, config: STTConfig, window: str | None = None) -> float:
    strategy = window or config.window
    if strategy == "full" or audio_s > FULL_WINDOW_S - config.tail_pad_s:
        return FULL_WINDOW_S
    if strategy == "trim":  # the utterance alone: fast, but loops on Korean; kept for the benchmark
        return float(max(1, math.ceil(audio_s)))
    if strategy != "adaptive":
        raise STTError(f"unknown window strategy {strategy!r}; use 'adaptive' or 'full'")
    needed = math.ceil(audio_s + config.tail_pad_s)
    if needed <= config.short_window_s:
        return float(config.short_window_s)
    return float(min(FULL_WINDOW_S, max(config.min_window_s, needed)))


def _resolve_device(device: str) -> str:
    if device != "auto":
        return device
    try:
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    except ImportError:
        return "cpu"


def _language(requested: str | None, config: STTConfig) -> str | None:
    """None means "as configured"; "auto" (or a configured None) means detect."""
    chosen = config.language if requested is None else requested
    return None if chosen in (None, "", "auto") else chosen


def _check_samples(samples: np.ndarray) -> np.ndarray:
    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim != 1:
        raise STTError(f"expected mono samples, got shape {samples.shape}")
    return samples


def _empty(samples: np.ndarray, language: str | None, backend: str, started: float) -> Transcript:
    return Transcript(
        text="",
        language=language or "",
        language_probability=0.0,
        audio_s=len(samples) / PIPELINE_RATE,
        elapsed_s=time.perf_counter() - started,
        backend=backend,
        window_s=0.0,
        dropped=["silence"] if len(samples) else ["empty audio"],
    )


def _finish(
    segments: list[Segment],
    language: str,
    language_probability: float,
    samples: np.ndarray,
    started: float,
    backend: str,
    window_s: float,
    config: STTConfig,
) -> Transcript:
    kept, dropped = filter_segments(
        segments, config.no_speech_threshold, config.log_prob_threshold, config.compression_ratio_threshold
    )
    return Transcript(
        # A decode stopped by ``token_cap`` can end inside a multi-byte character.
        text=" ".join(s.text for s in kept).replace("\ufffd", "").strip(),
        language=language,
        language_probability=language_probability,
        audio_s=len(samples) / PIPELINE_RATE,
        elapsed_s=time.perf_counter() - started,
        backend=backend,
        window_s=window_s,
        segments=kept,
        dropped=dropped,
    )


class _Backend:
    """What both backends share: input checks, the window choice and a count of decodes in flight (so
    that calls sharing one model can see it is busy). Subclasses implement ``_decode``."""

    name: str
    config: STTConfig
    _in_flight = 0
    _meter_lock = threading.Lock()

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def transcribe(
        self,
        samples: np.ndarray,
        language: str | None = None,
        prompt: str | None = None,
        beam_size: int | None = None,
        window: str | None = None,
        prefix: str | None = None,
    ) -> Transcript:
        call = DecodeCall(samples, language, prompt, beam_size, window, prefix)
        return self.transcribe_batch([call])[0]

    def transcribe_batch(self, calls: list[DecodeCall]) -> list[Transcript]:
        """Several utterances at once (the calls waiting on a shared model): those that can share one
        decode (same window, language, beam and prompt) go through the model together."""
        started = time.perf_counter()
        results: list[Transcript | None] = [None] * len(calls)
        groups: dict[tuple, list[tuple[int, _Request]]] = {}
        for index, call in enumerate(calls):
            samples = _check_samples(call.samples)
            language = _language(call.language, self.config)
            if len(samples) == 0 or speech_rms(samples) < SILENCE_RMS:
                results[index] = _empty(samples, language, self.name, started)
                continue
            request = _Request(
                samples=samples,
                language=language,
                prompt=call.prompt if call.prompt is not None else self.config.initial_prompt,
                beam=call.beam_size or self.config.beam_size,
                window_s=window_seconds(len(samples) / PIPELINE_RATE, self.config, call.window),
                prefix=call.prefix or None,
            )
            groups.setdefault(request.batch_key, []).append((index, request))
        with self._meter_lock:
            self._in_flight += 1
        try:
            for members in groups.values():
                requests = [request for _, request in members]
                decoded = self._decode_many(requests) if len(requests) > 1 else [self._decode(requests[0])]
                for (index, request), (segments, detected, probability) in zip(members, decoded, strict=True):
                    results[index] = _finish(
                        segments,
                        detected,
                        probability,
                        request.samples,
                        started,
                        self.name,
                        request.window_s,
                        self.config,
                    )
        finally:
            with self._meter_lock:
                self._in_flight -= 1
        return results  # type: ignore[return-value]

    def _decode_many(self, requests: list[_Request]) -> list[tuple[list[Segment], str, float]]:
        return [self._decode(request) for request in requests]

    def _decode(self, request: _Request) -> tuple[list[Segment], str, float]:
        raise NotImplementedError

    def _checks_language(self, request: _Request) -> bool:
        """Whether the language probabilities are worth reading: a fixed language, switching enabled,
        and an utterance long enough to be switched."""
        rule = self.config.language_switch
        audio_s = len(request.samples) / PIPELINE_RATE
        return rule is not None and request.language is not None and audio_s >= rule.min_audio_s

    def _choose(self, probabilities: dict[str, float], request: _Request) -> LanguageChoice:
        assert request.language is not None and self.config.language_switch is not None
        audio_s = len(request.samples) / PIPELINE_RATE
        choice = choose_language(probabilities, request.language, audio_s, self.config.language_switch)
        if choice.switched:
            log.info(
                "heard %s (p=%.3f, %s p=%.4f): decoding in %s",
                choice.language,
                choice.probability,
                request.language,
                probabilities.get(request.language, 0.0),
                choice.language,
            )
        return choice

    def _single_pass(self, choice: LanguageChoice | None, audio_s: float) -> bool:
        """One beam-search pass, no temperature fallback, for an utterance unlike the expected language
        and for a short one (``STTConfig.fallback_min_s``): the fallback samples at random, and these are
        where it fires, takes longest and changes nothing."""
        return audio_s < self.config.fallback_min_s or (choice is not None and choice.single_pass)

    def _temperatures(self, choice: LanguageChoice | None, audio_s: float) -> tuple[float, ...]:
        return (0.0,) if self._single_pass(choice, audio_s) else self.config.temperatures


@dataclass(frozen=True)
class DecodeCall:
    """The arguments of one ``Transcriber.transcribe`` call, for ``transcribe_batch``."""

    samples: np.ndarray
    language: str | None = None
    prompt: str | None = None
    beam_size: int | None = None
    window: str | None = None
    prefix: str | None = None


@dataclass(frozen=True)
class _Request:
    samples: np.ndarray
    language: str | None
    prompt: str | None
    beam: int
    window_s: float
    prefix: str | None

    @property
    def batch_key(self) -> tuple:
        """Requests with equal keys can share one batched decode. Language detection, a decoder prefix and
        the full 30 s window (timestamps, seeking past 30 s) keep faster-whisper's own path."""
        if self.language is None or self.prefix or self.window_s >= FULL_WINDOW_S:
            return ("single", id(self))
        return (self.window_s, self.language, self.beam, self.prompt)


class FasterWhisperTranscriber(_Backend):
    """CTranslate2 Whisper: int8 on CPU, float16 on CUDA."""

    name = "faster-whisper"

    def __init__(self, config: STTConfig = STTConfig()):
        from faster_whisper import WhisperModel

        self.config = config
        location = find_whisper_model(config.model, self.name, config.model_path)
        device = _resolve_device(config.device)
        compute_type = config.compute_type or ("float16" if device == "cuda" else "int8")
        self.model = WhisperModel(
            str(location.path),
            device=device,
            compute_type=compute_type,
            cpu_threads=config.cpu_threads,
            num_workers=config.workers,
            local_files_only=True,
        )
        self.model_location = location
        self.compute_type = compute_type
        self._encoder_frames = threading.local()
        self._encode_short_windows()

    def _encode_short_windows(self) -> None:
        """faster-whisper pads every window's features to 30 s (3000 frames) before the encoder, whatever
        ``chunk_length`` says; CTranslate2's encoder takes shorter inputs, so cut the padding off here.
        An encoder output already computed for the first window (the language check) is used once instead
        of encoding again. Both are per thread because several calls may share this model."""
        original = self.model.encode
        frames = self._encoder_frames

        def encode(features):
            primed = getattr(frames, "primed", None)
            if primed is not None:
                frames.primed = None
                return primed
            count = getattr(frames, "count", None)
            return original(features[..., :count] if count else features)

        self.model.encode = encode

    def _decode(self, request: _Request) -> tuple[list[Segment], str, float]:
        window_s = request.window_s
        self._encoder_frames.count = int(window_s * 100) if window_s < FULL_WINDOW_S else None
        try:
            choice = self._check_language(request) if self._checks_language(request) else None
            segments, info = self.model.transcribe(
                request.samples,
                language=choice.language if choice is not None else request.language,
                beam_size=request.beam,
                temperature=list(self._temperatures(choice, len(request.samples) / PIPELINE_RATE)),
                initial_prompt=request.prompt,
                hotwords=self.config.hotwords,
                no_speech_threshold=self.config.no_speech_threshold,
                log_prob_threshold=self.config.log_prob_threshold,
                compression_ratio_threshold=self.config.compression_ratio_threshold,
                condition_on_previous_text=False,
                chunk_length=int(window_s),
                vad_filter=False,
                without_timestamps=window_s < FULL_WINDOW_S,
                prefix=request.prefix,
                max_new_tokens=token_cap(len(request.samples) / PIPELINE_RATE),
            )
            converted = [  # segments is a generator: decoding happens here, inside the try
                Segment(
                    s.start,
                    s.end,
                    s.text,
                    s.avg_logprob,
                    s.no_speech_prob,
                    s.compression_ratio,
                    s.temperature,
                )
                for s in segments
            ]
        finally:
            self._encoder_frames.count = None
            self._encoder_frames.primed = None
        probability = choice.probability if choice is not None else info.language_probability
        return converted, info.language, probability

    def _check_language(self, request: _Request) -> LanguageChoice:
        """Language probabilities from the first window's encoder output, which is then handed to the
        decode (see ``_encode_short_windows``): the check costs one decoder step, not another encode."""
        from faster_whisper.audio import pad_or_trim

        extractor = self.model.feature_extractor
        features = extractor(request.samples, chunk_length=int(request.window_s))
        first = features[:, : min(features.shape[-1] - 1, extractor.nb_max_frames)]  # as transcribe cuts it
        encoder_output = self.model.encode(pad_or_trim(first))
        detected = self.model.model.detect_language(encoder_output)[0]
        self._encoder_frames.primed = encoder_output
        return self._choose({token[2:-2]: p for token, p in detected}, request)

    def _decode_many(self, requests: list[_Request]) -> list[tuple[list[Segment], str, float]]:
        """One encoder pass and one beam search for the whole batch, built the way faster-whisper's own
        ``transcribe`` builds a single window (features, prompt, suppressed tokens, scores), so a batched
        utterance gets the tokens it would get alone. An utterance whose result would trigger Whisper's
        temperature fallback (a loop, or low confidence that is not silence) is decoded again alone."""
        import ctranslate2
        from faster_whisper.audio import pad_or_trim
        from faster_whisper.tokenizer import Tokenizer
        from faster_whisper.transcribe import get_compression_ratio, get_suppressed_tokens

        first = requests[0]
        frames = int(first.window_s * 100)
        batch = []
        for request in requests:
            features = self.model.feature_extractor(request.samples, chunk_length=int(request.window_s))
            content = features.shape[-1] - 1
            batch.append(pad_or_trim(features[:, : min(content, 3000)])[:, :frames])
        encoder_output = self.model.model.encode(
            ctranslate2.StorageView.from_array(np.ascontiguousarray(np.stack(batch))), to_cpu=False
        )
        choices: list[LanguageChoice | None] = [None] * len(requests)
        if any(self._checks_language(request) for request in requests):
            detected = self.model.model.detect_language(encoder_output)
            choices = [
                self._choose({token[2:-2]: p for token, p in probabilities}, request)
                if self._checks_language(request)
                else None
                for request, probabilities in zip(requests, detected, strict=True)
            ]
        languages = [choice.language if choice else first.language for choice in choices]
        tokenizers = {
            language: Tokenizer(
                self.model.hf_tokenizer,
                self.model.model.is_multilingual,
                task="transcribe",
                language=language,
            )
            for language in dict.fromkeys(languages)
        }
        tokenizer = tokenizers[languages[0]]  # encoding the prompt and decoding text: language-independent
        previous = tokenizer.encode(" " + first.prompt.strip()) if first.prompt else []
        prompts = [  # the same length whatever the language: one token differs
            self.model.get_prompt(
                tokenizers[language], previous, without_timestamps=True, hotwords=self.config.hotwords
            )
            for language in languages
        ]
        caps = [token_cap(len(request.samples) / PIPELINE_RATE) for request in requests]
        max_length = self.model.max_length
        if all(cap is not None for cap in caps):
            max_length = min(max_length, max(len(p) for p in prompts) + max(caps))  # type: ignore[type-var]
        results = self.model.model.generate(
            encoder_output,
            prompts,
            beam_size=first.beam,
            max_length=max_length,
            return_scores=True,
            return_no_speech_prob=True,
            suppress_blank=True,
            suppress_tokens=get_suppressed_tokens(tokenizer, [-1]),
        )
        decoded = []
        for request, result, choice in zip(requests, results, choices, strict=True):
            tokens = result.sequences_ids[0]
            avg_logprob = result.scores[0] * len(tokens) / (len(tokens) + 1)
            text = tokenizer.decode(tokens).strip()
            ratio = get_compression_ratio(text)
            silence = (
                result.no_speech_prob > self.config.no_speech_threshold
                and avg_logprob < self.config.log_prob_threshold
            )
            audio_s = len(request.samples) / PIPELINE_RATE
            if (
                not self._single_pass(choice, audio_s)
                and not silence
                and (
                    ratio > self.config.compression_ratio_threshold
                    or avg_logprob < self.config.log_prob_threshold
                )
            ):
                decoded.append(self._decode(request))
                continue
            segment = Segment(0.0, audio_s, text, avg_logprob, result.no_speech_prob, ratio)
            if choice is None:
                decoded.append(([segment], first.language, 1.0))
            else:
                decoded.append(([segment], choice.language, choice.probability))
        return decoded


class OpenAIWhisperTranscriber(_Backend):
    """openai-whisper in PyTorch: fp16 on CUDA; on CPU fp32 with int8 dynamic quantisation of the linears."""

    name = "openai-whisper"

    def __init__(self, config: STTConfig = STTConfig(), quantize: bool = True):
        import torch
        import whisper

        self.config = config
        location = find_whisper_model(config.model, self.name, config.model_path)
        self.device = _resolve_device(config.device)
        checkpoint = torch.load(location.path, map_location="cpu", weights_only=True)
        dims = whisper.model.ModelDimensions(**checkpoint["dims"])
        model = whisper.model.Whisper(dims)
        model.load_state_dict(checkpoint["model_state_dict"], strict=True)
        if self.device == "cuda":
            model = model.half().to("cuda")
        else:
            torch.set_num_threads(config.cpu_threads)
            model = model.float()
            if quantize:
                try:
                    model = _quantize_linears(model)
                except (AttributeError, RuntimeError, AssertionError) as exc:  # API removed in a later torch
                    log.warning("int8 quantisation unavailable (%s); running openai-whisper in float32", exc)
                    quantize = False
        self.model = model.eval()
        _allow_short_windows(self.model)
        self.model_location = location
        self.compute_type = "float16" if self.device == "cuda" else ("int8" if quantize else "float32")
        self._lock = threading.Lock()  # a PyTorch module is not safe to run from two threads at once

    def _decode(self, request: _Request) -> tuple[list[Segment], str, float]:
        import torch
        import whisper

        samples, language, prompt, beam = request.samples, request.language, request.prompt, request.beam
        audio_s = len(samples) / PIPELINE_RATE
        window_s = request.window_s
        fp16 = self.device == "cuda"
        with self._lock, torch.inference_mode():
            if window_s >= FULL_WINDOW_S and audio_s > FULL_WINDOW_S - self.config.tail_pad_s:
                choice = None
                if self._checks_language(request):  # whisper.transcribe encodes again: rare (over 27 s)
                    mel = whisper.log_mel_spectrogram(whisper.pad_or_trim(samples), self.model.dims.n_mels)
                    mel = mel.to(self.model.device)
                    _, probs = self.model.detect_language(mel.half() if fp16 else mel)
                    choice = self._choose(probs, request)
                    language = choice.language
                result = whisper.transcribe(
                    self.model,
                    samples,
                    language=language,
                    temperature=self._temperatures(choice, audio_s),
                    beam_size=beam,
                    best_of=beam,
                    initial_prompt=prompt,
                    fp16=fp16,
                    condition_on_previous_text=False,
                    no_speech_threshold=self.config.no_speech_threshold,
                    logprob_threshold=self.config.log_prob_threshold,
                    compression_ratio_threshold=self.config.compression_ratio_threshold,
                )
                segments = [
                    Segment(
                        s["start"],
                        s["end"],
                        s["text"],
                        s["avg_logprob"],
                        s["no_speech_prob"],
                        s["compression_ratio"],
                        s["temperature"],
                    )
                    for s in result["segments"]
                ]
                detected, probability = result["language"], choice.probability if choice else 1.0
            else:
                segments, detected, probability = self._decode_window(request, fp16)
        return segments, detected, probability

    def _decode_window(self, request: _Request, fp16: bool) -> tuple[list[Segment], str, float]:
        """One window, with Whisper's temperature fallback on loops or low confidence. The encoder runs
        once: language detection and every decode pass start from its output."""
        import whisper

        samples, language, prefix = request.samples, request.language, request.prefix
        frames = int(request.window_s * 100)
        mel = whisper.log_mel_spectrogram(whisper.pad_or_trim(samples, frames * 160), self.model.dims.n_mels)
        mel = mel[:, :frames].to(self.model.device)
        if fp16:
            mel = mel.half()
        features = self.model.embed_audio(mel.unsqueeze(0))[0]  # (frames / 2, n_audio_state)
        probability, choice = 1.0, None
        if language is None:
            _, probs = self.model.detect_language(features)
            language = max(probs, key=probs.get)
            probability = float(probs[language])
        elif self._checks_language(request):
            _, probs = self.model.detect_language(features)
            choice = self._choose(probs, request)
            language, probability = choice.language, choice.probability
        result = None
        for temperature in self._temperatures(choice, len(samples) / PIPELINE_RATE):
            options = whisper.DecodingOptions(
                language=language,
                temperature=temperature,
                beam_size=request.beam if temperature == 0 else None,
                best_of=request.beam if temperature > 0 else None,
                prompt=request.prompt,
                prefix=prefix or None,
                fp16=fp16,
                without_timestamps=True,
                sample_len=token_cap(len(request.samples) / PIPELINE_RATE),
            )
            result = whisper.decode(self.model, features, options)
            too_repetitive = result.compression_ratio > self.config.compression_ratio_threshold
            too_unsure = result.avg_logprob < self.config.log_prob_threshold
            if result.no_speech_prob > self.config.no_speech_threshold and too_unsure:
                break
            if not too_repetitive and not too_unsure:
                break
        assert result is not None
        audio_s = len(samples) / PIPELINE_RATE
        text = (
            f"{prefix.strip()} {result.text.strip()}" if prefix else result.text
        )  # decode() drops the prefix
        segment = Segment(
            0.0,
            audio_s,
            text,
            result.avg_logprob,
            result.no_speech_prob,
            result.compression_ratio,
            result.temperature,
        )
        return [segment], language, probability


def _quantize_linears(model):
    """Dynamic int8 quantisation of every linear layer: about twice as fast on CPU, same tokens on our clips."""
    import warnings

    import torch
    import whisper

    warnings.filterwarnings("ignore", module=r"torch\.ao\..*")
    for module in model.modules():
        if type(module) is whisper.model.Linear:
            # whisper's subclass only casts dtypes in forward, which fp32 on CPU never needs
            module.__class__ = torch.nn.Linear
    return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)


def _allow_short_windows(model) -> None:
    """Let the encoder take fewer than 3000 mel frames by slicing its positional embedding, and pass
    through what it already encoded: whisper's decode and language detection recognise encoder output
    only at the full window's 1500 positions and would encode a shorter one again."""
    import torch.nn.functional as F

    encoder = model.encoder
    n_mels, n_state = model.dims.n_mels, model.dims.n_audio_state

    def forward(x):
        if x.shape[-2] != n_mels and x.shape[-1] == n_state:  # (batch, positions, state): encoded already
            return x
        x = F.gelu(encoder.conv1(x))
        x = F.gelu(encoder.conv2(x))
        x = x.permute(0, 2, 1)
        x = (x + encoder.positional_embedding[: x.shape[1]]).to(x.dtype)
        for block in encoder.blocks:
            x = block(x)
        return encoder.ln_post(x)

    encoder.forward = forward


def create_transcriber(config: STTConfig | None = None) -> Transcriber:
    config = config or STTConfig()
    if config.backend == "faster-whisper":
        return FasterWhisperTranscriber(config)
    if config.backend == "openai-whisper":
        return OpenAIWhisperTranscriber(config)
    raise STTError(f"unknown STT backend {config.backend!r}; use 'faster-whisper' or 'openai-whisper'")
