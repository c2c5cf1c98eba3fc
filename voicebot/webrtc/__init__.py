"""Browser calls over WebRTC: an aiortc peer per call bridged into a ``CallSession``.

Public interface
----------------
``WebRTCService(session_factory, WebRTCConfig(...), on_call_end, handoffs, synthesizer)`` (``service``)
    Answers a browser's SDP offer with a new call (``await service.answer(sdp)`` -> ``Answer``), refuses
    offers beyond ``max_calls`` with ``CallsBusy`` (a Korean message for the caller), offers from an address
    that already holds ``max_calls_per_client`` calls with ``ClientBusy`` (pass ``client=``), and bad offers with
    ``OfferError``; ``await service.close()`` ends every call on shutdown.
    Each call is run by a ``voicebot.call.CallDriver`` over a ``WebRTCTransport`` (``transport``), the same
    driver as a SIP call's: finished calls are reported as ``CallRecord``s.
``PeerCall`` (``peer``)
    The aiortc peer: the SDP answer, caller audio and keypad messages in, the bot's track and the
    driver's progress messages (state, transcript, the end of the call) out on the data channel.
``BotTrack`` / ``frame_to_mono`` (``media``)
    Decoded Opus frames as mono samples; the bot's 48 kHz frames paced at 20 ms.
``include_loopback(pc)`` (``ice``)
    Adds a 127.0.0.1 host candidate, which aioice never gathers by itself.
"""

from voicebot.webrtc.peer import OfferError
from voicebot.webrtc.service import Answer, CallsBusy, ClientBusy, WebRTCConfig, WebRTCService

__all__ = ["Answer", "CallsBusy", "ClientBusy", "OfferError", "WebRTCConfig", "WebRTCService"]
