#!/usr/bin/env python3
"""Build the labelled answered-call set for answering-machine detection (issue 16).

    .venv/bin/python scripts/make_amd_set.py [OUT_DIR] [--audio-dir DIR] [--seed 16]

OUT_DIR defaults to ~/.cache/voicebot/amd-set (``$XDG_CACHE_HOME`` respected). How the items are made:
``benchmarks/amd_set.py``. ``python -m benchmarks.amd`` builds the set itself when it is missing.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import amd_set  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", nargs="?", type=Path, default=amd_set.default_dir())
    parser.add_argument("--audio-dir", type=Path, default=amd_set.SHARED_AUDIO)
    parser.add_argument("--seed", type=int, default=amd_set.SEED)
    args = parser.parse_args(argv)
    items = amd_set.build(args.out_dir, args.audio_dir, args.seed)
    counts = Counter(item["label"] for item in items)
    print(
        json.dumps({"out_dir": str(args.out_dir), "items": len(items), "labels": counts}, ensure_ascii=False)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
