"""Browser calls over WebRTC: an aiortc peer per call bridged into a ``CallSession``.

Public interface
----------------
``WebRTCService(session_factory, WebRTCConfig(...), on_call_end=None)`` (``service``)
    Answers a browser's SDP offer with a new call (``await service.answer(sdp)`` -> ``Answer``), refuses
    offers beyond ``max_calls`` with ``CallsBusy`` (a Korean message for the caller) and bad offers with
    ``OfferError``; ``await service.close()`` ends every call on shutdown.
``SessionThread`` / ``CallSummary`` (``call``)
    One call's session in its own thread: caller frames, keypad digits and hang-up in by queue;
    transcript lines, state and the end of the call out as JSON messages.
``BotTrack`` / ``CallerAudio`` (``media``; the bot's frames wait in ``media.stream.FrameQueue``)
    48 kHz Opus audio <-> 20 ms 16 kHz pipeline frames, the bot's voice paced at 20 ms.
``include_loopback(pc)`` (``ice``)
    Adds a 127.0.0.1 host candidate, which aioice never gathers by itself.
"""

from voicebot.webrtc.call import CallSummary
from voicebot.webrtc.peer import OfferError
from voicebot.webrtc.service import Answer, CallsBusy, WebRTCConfig, WebRTCService

__all__ = ["Answer", "CallSummary", "CallsBusy", "OfferError", "WebRTCConfig", "WebRTCService"]
