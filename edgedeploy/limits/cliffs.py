"""The answer: per alpha, the largest size that still fits, and where each cliff starts.

A point *fits* when every op maps (no CPU op, no risky op), the parameters stay on chip and the largest
activation is within the sizes seen compiling (``PointFacts.fits``). Per alpha the *limit* is the
largest size of the unbroken run of fitting sizes from the smallest one up; the first size past it is
what stops it. A *cliff* is where one concern gets worse from one scanned size to the next (ok -> risky
-> cut/streams/fails), with the op or tensor that causes it and the fix. Across alphas only the cliffs
that hold at every scanned size are kept (the parameter cliff: weights do not grow with the input).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from edgedeploy.limits.scan import Point

SEVERITY = {"ok": 0, "risky": 1, "cut": 2, "streams": 2, "fails": 3}
CONCERNS = ("mapping", "parameters", "activations")


@dataclass
class Cliff:
    concern: str
    axis: str  # resolution | alpha
    alpha: float | None  # the alpha of a resolution cliff
    last_ok: (
        float | None
    )  # last size (or alpha) before the cliff; None: already at the first one scanned
    first: float  # first size (or alpha) where it is worse
    verdict: str
    cause: str
    detail: str
    fix: str
    evidence: str
    sizes: list[int] = field(
        default_factory=list
    )  # an alpha cliff: the sizes where it holds (all of them)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class AlphaLimit:
    alpha: float | None
    limit: Point | None  # the largest fitting size of the unbroken run from the smallest
    past: (
        Point | None
    )  # the first size past the limit (None: the limit is the largest size scanned)
    fits_again: list[int] = field(
        default_factory=list
    )  # fitting sizes after the first that does not

    def to_dict(self) -> dict[str, Any]:
        blocked = {}
        if self.past is not None and self.past.facts is not None:
            blocked = {
                name: c.to_dict()
                for name, c in self.past.facts.concerns().items()
                if c.verdict != "ok"
            }
        return {
            "alpha": self.alpha,
            "limit_resolution": self.limit.size.height if self.limit else None,
            "limit_width": self.limit.size.width if self.limit else None,
            "first_past_resolution": self.past.size.height if self.past else None,
            "blocked_by": blocked,
            "fits_again": self.fits_again,
            "latency_ms": self.limit.facts.latency_ms if self.limit and self.limit.facts else None,
        }


def _fits(point: Point) -> bool:
    return point.facts is not None and point.facts.fits


def by_alpha(points: list[Point]) -> dict[float | None, list[Point]]:
    groups: dict[float | None, list[Point]] = {}
    for point in points:
        groups.setdefault(point.size.alpha, []).append(point)
    return {
        alpha: sorted(group, key=lambda p: (p.size.height, p.size.width))
        for alpha, group in groups.items()
    }


def limits(points: list[Point]) -> list[AlphaLimit]:
    found = []
    for alpha, group in by_alpha(points).items():
        limit, past = None, None
        for point in group:
            if not _fits(point):
                past = point
                break
            limit = point
        after = group[group.index(past) + 1 :] if past is not None else []
        found.append(AlphaLimit(alpha, limit, past, [p.size.height for p in after if _fits(p)]))
    return found


def _worse(before: Point | None, after: Point, concern: str) -> bool:
    if after.facts is None:
        return False
    now = SEVERITY.get(getattr(after.facts, concern).verdict, 0)
    if before is None:
        return now > 0
    if before.facts is None:
        return False
    return now > SEVERITY.get(getattr(before.facts, concern).verdict, 0)


def _cliff(
    concern: str, axis: str, before: Point | None, after: Point, alpha: float | None, value
) -> Cliff:
    c = getattr(after.facts, concern)
    return Cliff(
        concern,
        axis,
        alpha,
        value(before) if before is not None else None,
        value(after),
        c.verdict,
        c.cause,
        c.detail,
        c.fix,
        c.evidence,
    )


def cliffs(points: list[Point]) -> list[Cliff]:
    """A concern bad at every point is one cliff (axis ``everywhere``); otherwise the cliffs along the
    sizes of each alpha, and those between alphas that hold at every size."""
    found: list[Cliff] = []
    groups = by_alpha(points)
    judged = [p for p in points if p.facts is not None]
    for concern in CONCERNS:
        if judged and all(_worse(None, p, concern) for p in judged):
            found.append(
                _cliff(
                    concern,
                    "everywhere",
                    None,
                    judged[0],
                    judged[0].size.alpha,
                    lambda p: p.size.height,
                )
            )
            continue
        for alpha, group in groups.items():
            for before, after in zip(group, group[1:]):
                if _worse(before, after, concern):
                    found.append(
                        _cliff(concern, "resolution", before, after, alpha, lambda p: p.size.height)
                    )
        found += _alpha_cliffs(groups, concern)
    return found


def _alpha_cliffs(groups: dict[float | None, list[Point]], concern: str) -> list[Cliff]:
    """Cliffs between consecutive alphas that hold at every size both scanned (parameters, typically)."""
    alphas = sorted(a for a in groups if a is not None)
    found = []
    if len(alphas) > 1 and all(_worse(None, p, concern) for p in groups[alphas[0]]):
        cliff = _cliff(concern, "alpha", None, groups[alphas[0]][0], None, lambda p: p.size.alpha)
        cliff.sizes = [p.size.height for p in groups[alphas[0]]]
        found.append(cliff)
    for low, high in zip(alphas, alphas[1:]):
        lower = {p.size.height: p for p in groups[low]}
        pairs = [(lower[p.size.height], p) for p in groups[high] if p.size.height in lower]
        if pairs and all(_worse(a, b, concern) for a, b in pairs):
            cliff = _cliff(concern, "alpha", pairs[0][0], pairs[0][1], None, lambda p: p.size.alpha)
            cliff.sizes = [b.size.height for _, b in pairs]
            found.append(cliff)
    return found


def headline(points: list[Point], found: list[AlphaLimit]) -> tuple[Point | None, Point | None]:
    """The reported limit (the widest alpha that fits somewhere, at its limit) and the first point past it:
    the next size at that alpha, else the next alpha at that size. Nothing fits: the smallest point."""
    fitting = [(a, a.limit) for a in found if a.limit is not None]
    if not fitting:
        return None, (found[0].past if found else None)
    best, limit = max(fitting, key=lambda pair: (pair[0].alpha or 0.0, pair[1].size.height))
    if best.past is not None:
        return limit, best.past
    groups = by_alpha(points)
    for alpha in sorted(a for a in groups if a is not None and a > (best.alpha or 0.0)):
        same = next((p for p in groups[alpha] if p.size.height == limit.size.height), None)
        if same is not None:
            return limit, same
    return limit, None
