"""ICE host candidates on the loopback interface, per peer connection.

aioice's host-address discovery (``aioice.ice.get_host_addresses``) always skips 127.0.0.1, and aiortc has
no option for it. On a machine whose only interface is loopback (a test container, or a browser on the same
host as ``voicebot serve``), a peer would then offer no candidate at all. ``include_loopback`` wraps the
candidate gathering of one peer connection's ICE gatherers so that, after the usual gathering, a host
candidate on 127.0.0.1 is added too. Browsers pair with it only when started with
``--allow-loopback-in-peer-connection``; other peers just see one more host candidate.
"""

from __future__ import annotations

import logging

from aiortc import RTCPeerConnection

log = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"


def _ice_gatherers(pc: RTCPeerConnection) -> list:
    """The distinct ICE gatherers behind the connection's transceivers and data channel transport."""
    transports = [t.receiver.transport for t in pc.getTransceivers()]
    if pc.sctp is not None:
        transports.append(pc.sctp.transport)
    gatherers = []
    for dtls in transports:
        gatherer = dtls.transport.iceGatherer if dtls is not None else None
        if gatherer is not None and all(gatherer is not g for g in gatherers):
            gatherers.append(gatherer)
    return gatherers


def include_loopback(pc: RTCPeerConnection) -> int:
    """Make the connection also gather a 127.0.0.1 host candidate; returns how many gatherers were changed.

    Call it once the transports exist and before ``setLocalDescription``: on the answering side after
    ``setRemoteDescription``, on the offering side after ``addTrack``/``createDataChannel``.
    """
    changed = 0
    for gatherer in _ice_gatherers(pc):
        # aiortc keeps its aioice Connection private; the wrapper is bound to this one instance only.
        connection = gatherer._connection
        if getattr(connection, "_voicebot_loopback", False):
            continue
        standard_gather = connection.gather_candidates

        async def gather_with_loopback(connection=connection, standard_gather=standard_gather) -> None:
            await standard_gather()
            if any(c.host == LOOPBACK for c in connection.local_candidates):
                return
            for component in sorted({c.component for c in connection.local_candidates} or {1}):
                extra = await connection.get_component_candidates(component=component, addresses=[LOOPBACK])
                connection._local_candidates.extend(extra)  # aioice's list; local_candidates is a copy
            log.debug("ICE: added loopback host candidates")

        connection.gather_candidates = gather_with_loopback
        connection._voicebot_loopback = True
        changed += 1
    return changed
