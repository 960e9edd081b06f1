"""Uniform per-stage counters, merged across workers and written beside the output (`out.stats.json`)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from pipeline.readers import Skipped


@dataclass(slots=True)
class StageStats:
    """What one stage instance did: documents in, out (still `ok`), filtered by reason, errors, time, and
    the stage's own counters."""

    docs_in: int = 0
    docs_out: int = 0
    errors: int = 0
    seconds: float = 0.0
    filtered_by_reason: Counter[str] = field(default_factory=Counter)
    counters: Counter[str] = field(default_factory=Counter)

    def merge(self, other: StageStats) -> None:
        self.docs_in += other.docs_in
        self.docs_out += other.docs_out
        self.errors += other.errors
        self.seconds += other.seconds
        self.filtered_by_reason.update(other.filtered_by_reason)
        self.counters.update(other.counters)

    def to_json(self) -> dict[str, Any]:
        return {
            "in": self.docs_in,
            "out": self.docs_out,
            "filtered_by_reason": dict(sorted(self.filtered_by_reason.items())),
            "errors": self.errors,
            "seconds": round(self.seconds, 4),
            "docs_per_second": round(self.docs_in / self.seconds, 1) if self.seconds else None,
            "counters": dict(sorted(self.counters.items())),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StageStats:
        return cls(docs_in=data["in"], docs_out=data["out"], errors=data["errors"], seconds=data["seconds"],
                   filtered_by_reason=Counter(data["filtered_by_reason"]), counters=Counter(data["counters"]))


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

    def merge(self, other: RunStats) -> None:
        """Add the outcomes and stage stats of another part of the same run (a Ray write task's)."""
        self.documents += other.documents
        self.ok += other.ok
        self.filtered += other.filtered
        self.errors += other.errors
        self.merge_stages(other.stages)

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

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunStats:
        """The stats a run wrote, so a resumed run reports on the whole output."""
        return cls(documents=data["documents"], ok=data["ok"], filtered=data["filtered"], errors=data["errors"],
                   seconds=data["seconds"], stages={n: StageStats.from_json(s) for n, s in data["stages"].items()})

    def to_text(self) -> str:
        return json.dumps(self.to_json(), indent=2) + "\n"

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
            reasons = ", ".join(f"{r} {n}" for r, n in s.filtered_by_reason.most_common(3))
            lines.append(f"  {name:<{width}}  in {s.docs_in:>6}  errors {s.errors:>4}  {s.seconds:8.3f} s"
                         + (f"  filtered: {reasons}" if reasons else ""))
        return "\n".join(lines)
