"""Operators' command line for the prompt library (``tts.library``): list, add one recording, export and
import voice packs."""

from __future__ import annotations

import argparse
from pathlib import Path

from media.audio import load_audio
from tts.library import MAX_RECORDING_S, STORE_RATE, PromptLibrary, default_prompts_dir


def main(argv: list[str] | None = None) -> int:
    """python -m tts.voicepack [--dir DIR] list | add TEXT FILE | export PACK.zip | import PACK.zip

    ``add`` stores any sound file as the recording of TEXT: how a voice rendered elsewhere (a studio, or a
    neural voice such as a Coqui model the operator runs) slots in for one prompt.
    """
    parser = argparse.ArgumentParser(prog="python -m tts.voicepack", description=main.__doc__)
    parser.add_argument("--dir", type=Path, default=None, help="library folder (default: var/prompts)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list")
    add = sub.add_parser("add")
    add.add_argument("text")
    add.add_argument("file", type=Path)
    for name in ("export", "import"):
        sub.add_parser(name).add_argument("pack", type=Path)
    args = parser.parse_args(argv)
    library = PromptLibrary(args.dir or default_prompts_dir())
    if args.command == "list":
        for recording in library.recordings(playable=False).values():
            current = recording.current_version
            length = f"{current.duration_s:5.1f}s" if current else "  -   "
            print(
                f"{recording.key[:12]}  v{recording.current}/{len(recording.versions)}  {length}  {recording.text}"
            )
    elif args.command == "add":
        audio = load_audio(args.file, STORE_RATE, max_seconds=MAX_RECORDING_S)
        saved = library.save(args.text, audio.samples, STORE_RATE, origin="upload")
        print(f"{saved.key[:12]} v{saved.current}")
    elif args.command == "export":
        args.pack.write_bytes(library.export_pack())
        print(f"{len(library.recordings())} recordings -> {args.pack}")
    else:
        print(f"{library.import_pack(args.pack.read_bytes())} recordings imported")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
