"""The bench's fixed mixed workload: what an ordinary service does, timed inside a fresh container.

json, regex, float arithmetic, dict counting, decimal, sha256 and small objects, each a fixed amount of work on
fixed data (no randomness, no clock, no files), so every interpreter does exactly the same thing. It runs as
`python -c SOURCE ROUNDS` and prints one line: the best round in milliseconds, then a checksum of the results
(the same on every correct interpreter, so a subject that computes something else cannot look fast).
The container's start and the interpreter's start are outside the timing: only the rounds are timed.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

SOURCE = r"""
import decimal, hashlib, json, re, sys, time
from collections import Counter

WORDS = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho".split()
RECORDS = [{"id": i, "name": WORDS[i % 17], "tags": WORDS[i % 5:i % 5 + 3], "score": i * 0.37, "ok": i % 3 == 0}
           for i in range(2000)]
TEXT = " ".join(f"{WORDS[i % 17]}-{i}@host{i % 7}.example.org {i * 13 % 997}" for i in range(4000))
EMAIL = re.compile(r"([a-z]+)-(\d+)@(host\d)\.example\.org")

class Point:
    __slots__ = ("x", "y")
    def __init__(self, x, y):
        self.x, self.y = x, y
    def moved(self, dx, dy):
        return Point(self.x + dx, self.y + dy)

def work():
    total = 0
    for _ in range(4):
        total += len(json.loads(json.dumps(RECORDS)))
    found = [m.group(1, 3) for m in EMAIL.finditer(TEXT)]
    total += len(found)
    x = 0.0
    for i in range(1, 150000):
        x += (i * 0.5) / (i + 1.25) - x * 1e-6
    counts = Counter()
    for name, host in found:
        counts[name] += 1
        counts[host] += 2
    words = {}
    for record in RECORDS * 10:
        words[record["name"]] = words.get(record["name"], 0) + 1
    decimal.getcontext().prec = 28
    money = decimal.Decimal(0)
    for i in range(20000):
        money += decimal.Decimal(i) / decimal.Decimal(7)
    digest = hashlib.sha256()
    for i in range(20000):
        digest.update(b"%d:%s;" % (i, WORDS[i % 17].encode()))
    p = Point(0, 0)
    for i in range(100000):
        p = p.moved(1, -1)
    parts = (total, round(x, 6), sorted(counts.items())[:3], len(words), money, digest.hexdigest(), p.x, p.y)
    return "/".join(map(str, parts))

rounds = int(sys.argv[1])
times, results = [], set()
for _ in range(rounds):
    started = time.perf_counter()
    results.add(work())
    times.append((time.perf_counter() - started) * 1000)
print(f"{min(times):.3f}", hashlib.sha256("".join(sorted(results)).encode()).hexdigest()[:16], len(results))
"""


def parse(output: str) -> tuple[float, str]:
    """The best round's milliseconds and the checksum, from the workload's last output line."""
    fields = output.strip().splitlines()[-1].split()
    if len(fields) != 3 or fields[2] != "1":
        raise ValueError(f"the mixed workload printed {output.strip()[-200:]!r}, not 'MS CHECKSUM 1'")
    return float(fields[0]), fields[1]


def summary(best_ms: Sequence[float], checksums: Sequence[str]) -> dict[str, Any]:
    """Best of N and median over containers, and whether every container computed the same results."""
    return {
        "best": min(best_ms),
        "median": statistics.median(best_ms),
        "values": list(best_ms),
        "checksum": checksums[0] if len(set(checksums)) == 1 else "differs: " + " ".join(sorted(set(checksums))),
    }


def speed_ratio(subject: dict[str, Any], reference: dict[str, Any]) -> float:
    """Reference best time / subject best time: above 1.00 means the subject is faster."""
    return float(reference["best"]) / float(subject["best"])
