"""Parse one file sent for import, in a process of its own with CPU and memory limits.

    python -m bot.workers.parse_import CPU_SECONDS MEMORY_MB < request

`bot.services.importing.parse_in_child` starts it, once per file. The limits come as arguments
and are set first, before anything heavy is imported (`RLIMIT_CPU`: SIGXCPU at CPU_SECONDS,
SIGKILL a second later; `RLIMIT_AS`: MEMORY_MB of address space, so a big allocation fails with
MemoryError; no core files). Then stdin holds one JSON line:

    {"filename": ..., "limits": {ImportLimits fields}, "country": "PL",
     "timezone": "Europe/Warsaw", "now": "2026-11-23T09:00:00+00:00", "size": N}

followed by the file's N bytes. "now" comes from the bot's clock: this process never reads its
own. It runs `read_table` and `parse_clients` (no database, no network) and writes one JSON
object to stdout:

* the result: `{"rows": [[row_number, name, phone, value_minor, stage, owner, next_contact ISO
  or null], ...], "bad": [[row_number, problem, value], ...], "columns": {field: column}}`;
* a refusal: `{"refused": reason, "limit": ..., "found": ..., "row": ..., "detail": ...}` (the
  numbers only where known), also "too_much_memory" when a MemoryError ended the parse;

and exits 0. Anything else (a traceback and status 1, death by a signal) is for the parent to
read: SIGXCPU or SIGKILL means the CPU limit.

Start-up stays cheap: numpy and PIL, which openpyxl would load for writing numbers and images,
are kept out (reading cells needs neither), and openpyxl itself is imported only for an XLSX.
"""

from __future__ import annotations

import resource
import sys

_HEADER_BYTES = 64 * 1024  # the JSON line is a few hundred bytes


def confine(cpu_seconds: int, memory_mb: int) -> None:
    """CPU and address-space limits for this process (never above what it may already use)."""
    _lower(resource.RLIMIT_CPU, cpu_seconds, cpu_seconds + 1)
    memory = memory_mb * 1024 * 1024
    _lower(resource.RLIMIT_AS, memory, memory)
    _lower(resource.RLIMIT_CORE, 0, 0)


def _lower(kind: int, soft: int, hard: int) -> None:
    _, current_hard = resource.getrlimit(kind)
    if current_hard != resource.RLIM_INFINITY:
        hard = min(hard, current_hard)
        soft = min(soft, hard)
    resource.setrlimit(kind, (soft, hard))


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m bot.workers.parse_import CPU_SECONDS MEMORY_MB", file=sys.stderr)
        return 2
    cpu_seconds, memory_mb = int(argv[0]), int(argv[1])
    confine(cpu_seconds, memory_mb)
    # Reading cells needs neither; openpyxl does without them when they cannot be imported.
    for heavy in ("numpy", "PIL"):
        sys.modules[heavy] = None  # type: ignore[assignment]

    import json

    request = sys.stdin.buffer
    header = json.loads(request.readline(_HEADER_BYTES))
    content = request.read(int(header["size"]) + 1)
    try:
        answer = _parse(header, content, memory_mb)
    except MemoryError:
        content = b""
        answer = {"refused": "too_much_memory", "limit": memory_mb}
    sys.stdout.buffer.write(json.dumps(answer).encode())
    sys.stdout.buffer.flush()
    return 0


def _parse(header: dict[str, object], content: bytes, memory_mb: int) -> dict[str, object]:
    from datetime import datetime

    from bot.services.importing import (
        ImportLimits,
        UnreadableFile,
        parse_file,
        refusal_to_json,
        result_to_json,
    )

    limits = ImportLimits(**header["limits"])  # type: ignore[arg-type]
    if len(content) != header["size"]:
        raise RuntimeError(f"expected {header['size']} bytes on stdin, got {len(content)}")
    try:
        result = parse_file(
            content,
            str(header["filename"]),
            limits=limits,
            country=str(header["country"]),
            timezone=str(header["timezone"]),
            now=datetime.fromisoformat(str(header["now"])),
        )
    except UnreadableFile as error:
        return refusal_to_json(error)
    return result_to_json(result)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
