"""Korean public-sector voicebot: call session, audio pipeline, transports, server and CLI.

Public interface:
- ``voicebot.audio``: ``Audio``, ``AudioFrame``, ``AudioError``, ``load_audio``, ``resample``, ``iter_frames``,
  ``write_wav`` and the pipeline rates ``PIPELINE_RATE`` (16 kHz) and ``TELEPHONY_RATE`` (8 kHz).
- ``voicebot.codecs``: G.711 ``ulaw_*`` / ``alaw_*`` encode and decode (bit-exact with the reference).
- ``voicebot.vad``: ``create_vad`` (webrtcvad default, Silero optional) and ``Endpointer`` events.
- ``voicebot.listen``: streams audio through VAD and STT, yielding one ``Utterance`` per endpoint.
- ``voicebot.cli``: the ``voicebot`` console script.
"""

__version__ = "0.1.0"
