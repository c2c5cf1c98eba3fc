"""Media primitives: the bottom layer, imports nothing else of this project.

- ``media.audio``: ``Audio``, ``AudioFrame``, ``AudioError``, ``load_audio``, ``resample``, ``iter_frames``,
  ``write_wav``, ``silence`` and the rates ``PIPELINE_RATE`` (16 kHz) and ``TELEPHONY_RATE`` (8 kHz).
- ``media.codecs``: G.711 ``ulaw_*`` / ``alaw_*`` encode and decode (bit-exact with the reference).
- ``media.vad``: ``create_vad`` (webrtcvad default, Silero optional) and the ``Endpointer`` events.
- ``media.stream``: ``CallerAudio`` (caller audio at any rate into 20 ms 16 kHz frames),
  ``StreamResampler`` (block resampling at a transport's edge), ``FrameQueue`` (the bot's frames waiting
  for a transport's clock), ``is_silent`` and ``paced`` (frames released in real time).

Layers (checked by tests/test_layers.py): media <- stt / tts / dialog <- voicebot.call <- the transports,
and nothing imports upwards.
"""
