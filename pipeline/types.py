"""Value types for option fields: `Annotated` hints whose `Check` `pipeline.config` enforces at load time.

A stage's `Config` dataclass states its options with these (`menu_lines: PositiveInt = 4`), so stages
import no validation code; the description is what an error message says was expected.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath
from typing import Annotated, Any

# Upper bounds that keep one option from exhausting the machine: a run with more workers than this, or a
# batch this large (every document of a batch is in memory at once), is a typo, not a plan.
MAX_JOBS = 1024
MAX_BATCH = 100_000


@dataclass(frozen=True)
class Check:
    """Extra constraint on an option, used as `Annotated[str, Check("a language code", predicate)]`."""

    description: str
    predicate: Callable[[Any], bool]


def _relative_glob(pattern: str) -> bool:
    """A glob that can only match inside the input directory: not empty, not absolute, no `..` part."""
    posix, windows = PurePosixPath(pattern), PureWindowsPath(pattern)
    return bool(pattern) and not posix.is_absolute() and not windows.is_absolute() and not windows.drive \
        and ".." not in posix.parts and ".." not in windows.parts


LangCode = Annotated[str, Check("a language code", lambda v: bool(re.fullmatch(r"[a-z]{2,3}", v)))]
PositiveInt = Annotated[int, Check("a positive integer", lambda v: v > 0)]
NonNegativeInt = Annotated[int, Check("a non-negative integer", lambda v: v >= 0)]
PositiveFloat = Annotated[float, Check("a positive number", lambda v: v > 0 and math.isfinite(v))]
Fraction = Annotated[float, Check("a number from 0 to 1", lambda v: 0.0 <= v <= 1.0)]
Jobs = Annotated[int, Check(f"an integer from 0 to {MAX_JOBS}", lambda v: 0 <= v <= MAX_JOBS)]
BatchSize = Annotated[int, Check(f"an integer from 1 to {MAX_BATCH}", lambda v: 1 <= v <= MAX_BATCH)]
RelativeGlob = Annotated[str, Check("a non-empty glob relative to the input directory (no absolute path, no ..)",
                                    _relative_glob)]
