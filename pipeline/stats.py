"""Uniform per-stage counters, merged across workers and written to `stats.json`."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.readers import Skipped


@dataclass(slots=True)
class StageStats:
    docs_in: int = 0
    docs_out: int = 0
    errors: int = 0
    seconds: float = 0.0
    filtered: Counter[str] = field(default_factory=Counter)
    counters: Counter[str] = field(default_factory=Counter)

    def merge(self, other: StageStats) -> None:
        self.docs_in += other.docs_in
        self.docs_out += other.docs_out
        self.errors += other.errors
        self.seconds += other.seconds
        self.filtered.update(other.filtered)
        self.counters.update(other.counters)

    def to_json(self) -> dict[str, Any]:
        return {
            "in": self.docs_in,
            "out": self.docs_out,
            "filtered": dict(sorted(self.filtered.items())),
            "errors": self.errors,
            "seconds": round(self.seconds, 4),
            "docs_per_second": round(self.docs_in / self.seconds, 1) if self.seconds else None,
            "counters": dict(sorted(self.counters.items())),
        }


@dataclass(slots=True)
class RunStats:
    """What a run did: documents by outcome, and each stage's counters (keyed by instance name)."""

    documents: int = 0
    ok: int = 0
    filtered: int = 0
    errors: int = 0
    seconds: float = 0.0
    stages: dict[str, StageStats] = field(default_factory=dict)
    skipped: Skipped = field(default_factory=Skipped)

    def count(self, status: str) -> None:
        self.documents += 1
        if status == "ok":
            self.ok += 1
        elif status == "filtered":
            self.filtered += 1
        else:
            self.errors += 1

    def merge_stages(self, stages: dict[str, StageStats]) -> None:
        for name, stats in stages.items():
            self.stages.setdefault(name, StageStats()).merge(stats)

    def to_json(self) -> dict[str, Any]:
        return {
            "documents": self.documents,
            "ok": self.ok,
            "filtered": self.filtered,
            "errors": self.errors,
            "seconds": round(self.seconds, 3),
            "stages": {name: s.to_json() for name, s in self.stages.items()},
            "skipped": self.skipped.to_json(),
        }

    def write(self, path: str | Path) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(self.to_json(), indent=2) + "\n", encoding="utf-8")

    def summary(self) -> str:
        """One screen for a person at a terminal."""
        rate = f"{self.documents / self.seconds:.1f} docs/s" if self.seconds else ""
        lines = [f"{self.documents} documents: {self.ok} ok, {self.filtered} filtered, {self.errors} errors "
                 f"in {self.seconds:.2f} s {rate}".rstrip()]
        if self.skipped.count:
            lines.append(f"skipped {self.skipped.count} inputs: {', '.join(self.skipped.first[:3])}"
                         + (", ..." if self.skipped.count > 3 else ""))
        width = max((len(n) for n in self.stages), default=5)
        for name, s in self.stages.items():
            reasons = ", ".join(f"{r} {n}" for r, n in s.filtered.most_common(3))
            lines.append(f"  {name:<{width}}  in {s.docs_in:>6}  errors {s.errors:>4}  {s.seconds:8.3f} s"
                         + (f"  filtered: {reasons}" if reasons else ""))
        return "\n".join(lines)
