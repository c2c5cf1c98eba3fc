"""``voicebot serve``: the HTTP side of the voicebot (FastAPI routers and the pages they serve)."""
