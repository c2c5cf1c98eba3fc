"""Korean public-sector voicebot: call session, audio pipeline, transports, server and CLI.

Public interface:
- audio, G.711 and VAD primitives live in the bottom package ``media`` (see its ``__init__``).
- ``voicebot.listen``: streams audio through VAD and STT, yielding one ``Utterance`` per endpoint.
- ``voicebot.cli``: the ``voicebot`` console script.
"""

__version__ = "0.1.0"
