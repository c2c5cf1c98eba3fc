"""Audio between PJSIP's conference bridge (8 kHz, 20 ms, 16-bit) and the 16 kHz pipeline.

PJSIP decodes and encodes G.711 itself; its media clock thread calls ``BridgePort.onFrameReceived`` and
``onFrameRequested`` every 20 ms. Those callbacks never block and never touch the call session: caller
frames go into the call driver's queue, bot frames come out of a ``media.stream.FrameQueue`` (silence when
it is empty).
"""

from __future__ import annotations

from collections.abc import Callable

from media.stream import FrameQueue

TELEPHONY_RATE = 8_000
FRAME_MS = 20
FRAME_SAMPLES = TELEPHONY_RATE * FRAME_MS // 1000  # 160
FRAME_BYTES = FRAME_SAMPLES * 2
SILENT_FRAME = b"\x00" * FRAME_BYTES


def make_bridge_port(on_caller_frame: Callable[[bytes], None], outbound: FrameQueue, name: str = "voicebot"):
    """An ``AudioMediaPort`` registered on the conference bridge (8 kHz mono, 20 ms)."""
    import pjsua2 as pj

    class BridgePort(pj.AudioMediaPort):
        def __init__(self) -> None:
            super().__init__()
            self.active = True

        def onFrameReceived(self, frame) -> None:  # PJSIP media clock thread
            if not self.active or frame.type != pj.PJMEDIA_FRAME_TYPE_AUDIO:
                return
            try:
                pcm = bytes(frame.buf)
                if len(pcm) == FRAME_BYTES:
                    on_caller_frame(pcm)
            except Exception:  # never let an exception unwind into PJSIP's clock thread
                pass

        def onFrameRequested(self, frame) -> None:  # PJSIP media clock thread
            try:
                pcm = outbound.pop() if self.active else SILENT_FRAME
                frame.type = pj.PJMEDIA_FRAME_TYPE_AUDIO
                frame.buf = pj.ByteVector(pcm)
                frame.size = len(pcm)
            except Exception:
                pass

    port = BridgePort()
    fmt = pj.MediaFormatAudio()
    fmt.type = pj.PJMEDIA_TYPE_AUDIO
    fmt.clockRate = TELEPHONY_RATE
    fmt.channelCount = 1
    fmt.bitsPerSample = 16
    fmt.frameTimeUsec = FRAME_MS * 1000
    port.createPort(name, fmt)
    return port
