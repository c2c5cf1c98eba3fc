"""Reader for CTranslate2's ``model.bin`` (binary format version 6 and earlier, as written by its converters)."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

_DTYPES = (np.float32, np.int8, np.int16, np.int32, np.float16, "bfloat16")


class CT2FormatError(ValueError):
    """The file is not a CTranslate2 model this reader understands."""


@dataclass(frozen=True)
class CT2Model:
    spec: str
    revision: int
    binary_version: int
    variables: dict[str, np.ndarray]
    aliases: dict[str, str]

    def get(self, name: str) -> np.ndarray:
        return self.variables[self.aliases.get(name, name)]


def _read(stream: BinaryIO, fmt: str) -> tuple:
    size = struct.calcsize(fmt)
    data = stream.read(size)
    if len(data) != size:
        raise CT2FormatError("model.bin ends early: the file is truncated")
    return struct.unpack(fmt, data)


def _read_string(stream: BinaryIO) -> str:
    (length,) = _read(stream, "<H")
    raw = stream.read(length)
    if len(raw) != length:
        raise CT2FormatError("model.bin ends early: the file is truncated")
    return raw[:-1].decode("utf-8")


def read_ct2_model(path: str | Path) -> CT2Model:
    with open(path, "rb") as stream:
        (binary_version,) = _read(stream, "<I")
        if not 1 <= binary_version <= 6:
            raise CT2FormatError(f"{path}: unsupported CTranslate2 binary version {binary_version}")
        spec, revision = "", 1
        if binary_version >= 2:
            spec = _read_string(stream)
            (revision,) = _read(stream, "<I")
        (count,) = _read(stream, "<I")
        variables: dict[str, np.ndarray] = {}
        for _ in range(count):
            name = _read_string(stream)
            (rank,) = _read(stream, "<B")
            shape = _read(stream, f"<{rank}I") if rank else ()
            if binary_version >= 4:
                (type_id,) = _read(stream, "<B")
                (num_bytes,) = _read(stream, "<I")
            else:
                (item_size,) = _read(stream, "<B")
                type_id = {4: 0, 1: 1, 2: 2}.get(item_size, 0)
                (num_bytes,) = _read(stream, "<I")
                num_bytes *= item_size
            if type_id >= len(_DTYPES) or _DTYPES[type_id] == "bfloat16":
                raise CT2FormatError(f"{path}: variable {name} has unsupported type id {type_id}")
            raw = stream.read(num_bytes)
            if len(raw) != num_bytes:
                raise CT2FormatError(f"{path}: truncated inside variable {name}")
            variables[name] = np.frombuffer(raw, dtype=_DTYPES[type_id]).reshape(shape)
        aliases: dict[str, str] = {}
        if binary_version >= 3:
            (alias_count,) = _read(stream, "<I")
            for _ in range(alias_count):
                alias = _read_string(stream)
                aliases[alias] = _read_string(stream)
        return CT2Model(spec, revision, binary_version, variables, aliases)
