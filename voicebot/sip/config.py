"""Configuration of the SIP user agent."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from dialog.prompts import RECORDING_NOTICE

# G.722 (16 kHz) first: a wideband caller reaches Whisper without the 8 kHz bottleneck (issue 15). Opus is
# accepted here but pjsua2-python 2.15.1.post1 is built without it; codecs the build lacks are skipped.
SUPPORTED_CODECS = ("G722", "OPUS", "PCMU", "PCMA")
DEFAULT_CODECS = ("G722", "PCMU", "PCMA")
WIDEBAND_CODECS = ("G722", "OPUS")


@dataclass(frozen=True)
class RegistrarConfig:
    """Registration to a SIP registrar or trunk with digest authentication."""

    uri: str  # e.g. "sip:pbx.example.org"
    username: str
    password: str = field(repr=False)
    realm: str = "*"  # "*" answers any realm's challenge
    id_uri: str | None = None  # defaults to sip:USERNAME@<registrar host>
    expires_s: int = 300


@dataclass(frozen=True)
class SipConfig:
    """Where the user agent listens and how it places, answers and transfers calls."""

    listen_host: str = "127.0.0.1"
    listen_port: int = 5070
    public_address: str | None = None  # address advertised in Contact/Via/SDP (behind NAT)
    codecs: tuple[str, ...] = DEFAULT_CODECS  # in order of preference; others are disabled
    agent_uri: str | None = None  # blind-transfer target for "talk to an agent"
    registrar: RegistrarConfig | None = None
    ring_timeout_s: float = 30.0  # outbound: CANCEL when unanswered for this long
    answer_delay_s: float = 0.2  # inbound: 180 Ringing at once, 200 OK after this (must stay < 1 s)
    transfer_timeout_s: float = 15.0  # REFER without a final NOTIFY counts as failed after this
    callback_wait_s: float = 8.0  # after a failed transfer: how long to wait for "1" (call-back)
    rtp_timeout_s: float = 30.0  # hang up when no RTP arrived for this long
    # pjsua2-python 2.15.1.post1 is built with room for 4 calls per process (the 5th gets PJ_ETOOMANY;
    # PJSIP then answers 486 itself): run several processes behind a dispatcher for more.
    max_calls: int = 4
    record_dir: Path | None = None  # two-channel WAV per call (caller left, bot right)
    # With record_dir: said once at the start of each call (inbound and outbound); None: not said.
    recording_notice: str | None = RECORDING_NOTICE
    handoff_dir: Path | None = None  # handoff records as JSON files, keyed by id
    chat_link: str | None = None  # the web chat's address, texted to a caller facing a long wait
    user_agent: str = "voicebot"
    pjsip_log_level: int = 0  # >0 logs SIP messages in clear (personal data): debugging only

    @property
    def bridge_rate(self) -> int:
        """PJSIP's conference bridge: 16 kHz when a wideband codec may be negotiated; 8 kHz otherwise, so a
        G.711-only deployment is not resampled 8 -> 16 -> 8 kHz inside PJSIP."""
        return 16_000 if any(c.upper() in WIDEBAND_CODECS for c in self.codecs) else 8_000

    def __post_init__(self) -> None:
        bad = [c for c in self.codecs if c.upper() not in SUPPORTED_CODECS]
        if bad or not self.codecs:
            raise ValueError(
                f"unsupported codecs {bad or '(none)'}: choose from {', '.join(SUPPORTED_CODECS)}"
            )
        if not 0 <= self.answer_delay_s < 1.0:
            raise ValueError("answer_delay_s must be in [0, 1): callers must be answered within a second")


def parse_codecs(text: str) -> tuple[str, ...]:
    """``"G722, pcmu"`` -> ("G722", "PCMU"): a codec order as written in a flag or a config file."""
    return tuple(c.strip().upper() for c in text.split(",") if c.strip())


def parse_hostport(text: str, default_port: int = 5060) -> tuple[str, int]:
    """``"127.0.0.1:5070"`` -> ("127.0.0.1", 5070); a bare host gets ``default_port``."""
    host, sep, port = text.rpartition(":")
    if not sep:
        return text, default_port
    if not port.isdigit() or not 0 <= int(port) < 65536:  # 0: any free port
        raise ValueError(f"bad port in {text!r}")
    return host, int(port)
