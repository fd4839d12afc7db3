"""Read a GGUF file's scalar metadata quickly (the tokenizer's arrays are skipped, not decoded).

``gguf.GGUFReader`` builds Python objects for every array element: ~10 s of CPU for a Qwen vocabulary of 151k
tokens and merges, paid before every model load. The loader only needs a few scalars.
"""

from __future__ import annotations

import mmap
import struct
from pathlib import Path

_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
_STRING, _ARRAY = 8, 9


class GgufFormatError(ValueError):
    pass


def read_scalars(path: Path) -> dict[str, object]:
    """Every key with a scalar or string value; arrays are skipped. Raises GgufFormatError when the file is not
    GGUF, or is shorter than its tensor table says (a truncated download)."""
    with open(path, "rb") as handle:
        try:
            data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        except ValueError as error:  # an empty file cannot be mapped
            raise GgufFormatError("empty file") from error
        with data:
            return _parse(data)


def _parse(data: mmap.mmap) -> dict[str, object]:
    if data[:4] != b"GGUF":
        raise GgufFormatError("no GGUF magic number")
    (version,) = struct.unpack_from("<I", data, 4)
    if version < 2:
        raise GgufFormatError(f"GGUF version {version} is too old")
    tensor_count, kv_count = struct.unpack_from("<QQ", data, 8)
    offset = 24
    values: dict[str, object] = {}
    try:
        for _ in range(kv_count):
            key, offset = _string(data, offset)
            (value_type,) = struct.unpack_from("<I", data, offset)
            offset += 4
            if value_type == _ARRAY:
                offset = _skip_array(data, offset)
                continue
            value, offset = _value(data, offset, value_type)
            values[key] = value
        alignment = values.get("general.alignment", 32)
        _check_tensor_data(data, offset, tensor_count, alignment if isinstance(alignment, int) else 32)
    except (struct.error, UnicodeDecodeError, IndexError) as error:
        raise GgufFormatError(f"truncated or corrupt metadata ({error})") from error
    return values


def _check_tensor_data(data: mmap.mmap, offset: int, tensor_count: int, alignment: int) -> None:
    from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType

    end = 0
    for _ in range(tensor_count):
        _, offset = _string(data, offset)
        (n_dims,) = struct.unpack_from("<I", data, offset)
        dims = struct.unpack_from(f"<{n_dims}Q", data, offset + 4)
        tensor_type, tensor_offset = struct.unpack_from("<IQ", data, offset + 4 + 8 * n_dims)
        offset += 4 + 8 * n_dims + 12
        elements = 1
        for dim in dims:
            elements *= dim
        try:
            block_size, type_size = GGML_QUANT_SIZES[GGMLQuantizationType(tensor_type)]
        except (ValueError, KeyError):
            raise GgufFormatError(f"unknown tensor type {tensor_type}") from None
        end = max(end, tensor_offset + elements // block_size * type_size)
    data_start = (offset + alignment - 1) // alignment * alignment
    if data_start + end > len(data):
        raise GgufFormatError(f"the file is {len(data)} bytes but its tensors need {data_start + end}")


def _string(data: mmap.mmap, offset: int) -> tuple[str, int]:
    (length,) = struct.unpack_from("<Q", data, offset)
    start = offset + 8
    if start + length > len(data):
        raise GgufFormatError("string runs past the end of the file")
    return data[start : start + length].decode("utf-8"), start + length


def _value(data: mmap.mmap, offset: int, value_type: int) -> tuple[object, int]:
    if value_type == _STRING:
        return _string(data, offset)
    fmt = _SCALARS.get(value_type)
    if fmt is None:
        raise GgufFormatError(f"unknown value type {value_type}")
    return struct.unpack_from(fmt, data, offset)[0], offset + struct.calcsize(fmt)


def _skip_array(data: mmap.mmap, offset: int) -> int:
    element_type, count = struct.unpack_from("<IQ", data, offset)
    offset += 12
    if element_type == _STRING:
        for _ in range(count):
            (length,) = struct.unpack_from("<Q", data, offset)
            offset += 8 + length
        if offset > len(data):
            raise GgufFormatError("array runs past the end of the file")
        return offset
    if element_type == _ARRAY:
        for _ in range(count):
            offset = _skip_array(data, offset)
        return offset
    fmt = _SCALARS.get(element_type)
    if fmt is None:
        raise GgufFormatError(f"unknown array element type {element_type}")
    return offset + struct.calcsize(fmt) * int(count)
