"""Trusted-side cost of decoding a worker's reply: the largest the cap allows, crafted archives, an honest one.

    python benchmarks/bench_replies.py            # prints a table (and --json FILE to keep the numbers)

For each reply: its size, the time to decode it (``protocol.unpack_value``: archive checks, array copies,
value tree) and its rate in bytes/s, and the peak memory allocated while decoding (``tracemalloc``) as a
multiple of the reply's size. Nothing runs in a sandbox here: these are the bytes a hostile worker could send.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from autograder.sandbox import Limits, protocol  # noqa: E402
from autograder.sandbox.npzread import MAX_MEMBERS  # noqa: E402
from crafted_zip import deflate_bomb, npy_bytes, overlapping  # noqa: E402

def _decode(tree, payload: bytes) -> str:
    try:
        protocol.unpack_value(tree, payload)
    except protocol.ProtocolError as exc:
        return f"refused: {str(exc)[:60]}"
    return "decoded"


def measure(name: str, tree, payload: bytes, repeat: int = 3) -> dict:
    """Best time of ``repeat`` decodings (without tracing), then the peak of one traced decoding."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        outcome = _decode(tree, payload)
        best = min(best, time.perf_counter() - start)
    tracemalloc.start()
    _decode(tree, payload)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {"reply": name, "bytes": len(payload), "seconds": best, "bytes_per_s": len(payload) / best,
            "peak_bytes": peak, "peak_over_size": peak / max(1, len(payload)), "outcome": outcome}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="also write the numbers to this file")
    args = parser.parse_args()
    cap = Limits().max_result_bytes
    rows = []
    # the largest honest reply the cap allows: 64 MiB of float64 in 8 arrays
    tree, payload = protocol.pack_value([np.ones(cap // 8 // 8) for _ in range(8)])
    rows.append(measure("largest allowed (8 x 8 MiB float64)", tree, payload))
    # as many arrays as allowed, small ones
    tree, payload = protocol.pack_value([np.ones(2) for _ in range(MAX_MEMBERS)])
    rows.append(measure(f"{MAX_MEMBERS} small arrays", tree, payload))
    # a typical honest reply: a (32, 10) float64 array
    tree, payload = protocol.pack_value(np.ones((32, 10)))
    rows.append(measure("honest (32 x 10 float64)", tree, payload, repeat=50))
    ref = {"t": "nd", "k": "a0"}
    blob = npy_bytes(np.zeros(((cap - (1 << 20)) // 8,)))
    rows.append(measure("overlapping: 4096 entries on one 63 MiB member", ref, overlapping(blob, MAX_MEMBERS)))
    rows.append(measure("deflate bomb (inflates to 1 GiB)", ref, deflate_bomb(1 << 30)))
    print(f"{'reply':50s} {'bytes':>11s} {'ms':>9s} {'MB/s':>9s} {'peak MB':>9s} {'peak/size':>9s}  outcome")
    for r in rows:
        print(f"{r['reply']:50s} {r['bytes']:11d} {r['seconds'] * 1e3:9.2f} {r['bytes_per_s'] / 1e6:9.0f} "
              f"{r['peak_bytes'] / 1e6:9.2f} {r['peak_over_size']:9.3f}  {r['outcome']}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
