"""How far an int8 model may depart from its float model before edgedeploy calls it a departure: the
thresholds ``verify`` holds a deployed model to, and ``convert`` warns against on its held-back images.
One place, so the conversion's warning and verify's verdict cannot disagree."""

from __future__ import annotations

MIN_COSINE = 0.99  # mean cosine similarity of int8 vs float outputs
MIN_TOP1 = 0.9  # share of images whose top-1 class agrees (class-score outputs only)


def departures(cosine: float | None, top1: float | None, class_scores: bool) -> list[str]:
    """What falls below the thresholds, each as 'cosine 0.832 < 0.99'; empty when nothing does.
    A NaN/None cosine (an all-zero output) is a departure: nothing is left to compare."""
    found = []
    if cosine is None or not cosine >= MIN_COSINE:
        found.append(
            f"cosine {cosine:.3f} < {MIN_COSINE:g}" if cosine is not None else "cosine n/a"
        )
    if class_scores and top1 is not None and top1 < MIN_TOP1:
        found.append(f"top-1 agreement {top1:.1%} < {MIN_TOP1:.0%}")
    return found
