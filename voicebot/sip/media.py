"""Audio between PJSIP's conference bridge (20 ms, 16-bit) and the 16 kHz pipeline.

The bridge runs at 16 kHz (8 kHz when only G.711 is configured); each call's port runs at its negotiated codec's rate (``codec_rate``: 16 kHz for
G.722, 8 kHz for G.711), so a wideband call is never squeezed through 8 kHz and the call driver resamples
between that wire rate and the pipeline. PJSIP decodes and encodes the codecs itself; its media clock thread calls ``BridgePort.onFrameReceived`` and
``onFrameRequested`` every 20 ms. Those callbacks never block and never touch the call session: caller
frames go into the call driver's queue, bot frames come out of a ``media.stream.FrameQueue`` (silence when
it is empty).
"""

from __future__ import annotations

from collections.abc import Callable

from media.stream import FrameQueue

TELEPHONY_RATE = 8_000
BRIDGE_RATE = 16_000
FRAME_MS = 20
FRAME_SAMPLES = TELEPHONY_RATE * FRAME_MS // 1000  # 160
FRAME_BYTES = FRAME_SAMPLES * 2
SILENT_FRAME = b"\x00" * FRAME_BYTES


def codec_rate(codec_name: str, clock_rate: int) -> int:
    """The audio rate of a negotiated codec. G.722 says 8000 in SDP (RFC 3551's historical error) but
    carries 16 kHz audio; anything unknown or odd falls back to the telephone rate."""
    if codec_name.upper() == "G722":
        return BRIDGE_RATE
    return clock_rate if clock_rate in (8_000, 16_000, 48_000) else TELEPHONY_RATE


def make_bridge_port(
    on_caller_frame: Callable[[bytes], None],
    outbound: FrameQueue,
    name: str = "voicebot",
    rate: int = TELEPHONY_RATE,
):
    """An ``AudioMediaPort`` registered on the conference bridge (mono, 20 ms at ``rate``)."""
    import pjsua2 as pj

    frame_bytes = rate * FRAME_MS // 1000 * 2
    silent = b"\x00" * frame_bytes

    class BridgePort(pj.AudioMediaPort):
        def __init__(self) -> None:
            super().__init__()
            self.active = True

        def onFrameReceived(self, frame) -> None:  # PJSIP media clock thread
            if not self.active or frame.type != pj.PJMEDIA_FRAME_TYPE_AUDIO:
                return
            try:
                pcm = bytes(frame.buf)
                if len(pcm) == frame_bytes:
                    on_caller_frame(pcm)
            except Exception:  # never let an exception unwind into PJSIP's clock thread
                pass

        def onFrameRequested(self, frame) -> None:  # PJSIP media clock thread
            try:
                pcm = outbound.pop() if self.active else silent
                frame.type = pj.PJMEDIA_FRAME_TYPE_AUDIO
                frame.buf = pj.ByteVector(pcm)
                frame.size = len(pcm)
            except Exception:
                pass

    port = BridgePort()
    fmt = pj.MediaFormatAudio()
    fmt.type = pj.PJMEDIA_TYPE_AUDIO
    fmt.clockRate = rate
    fmt.channelCount = 1
    fmt.bitsPerSample = 16
    fmt.frameTimeUsec = FRAME_MS * 1000
    port.createPort(name, fmt)
    return port
