"""Dividing frames between servers in proportion to their speed."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence


@dataclasses.dataclass(frozen=True)
class Share:
    """A contiguous run of frames for one server."""

    server: str
    start_frame: int
    end_frame: int


def frame_runs(frames: Sequence[int], step: int) -> list[tuple[int, int]]:
    """Group sorted frames into runs with no gap wider than ``step``."""
    runs: list[tuple[int, int]] = []
    for frame in frames:
        if runs and frame - runs[-1][1] == step:
            runs[-1] = (runs[-1][0], frame)
        else:
            runs.append((frame, frame))
    return runs


def split_frames(
    frames: Sequence[int], step: int, weights: Mapping[str, float]
) -> list[Share]:
    """Share ``frames`` out by weight, in contiguous runs, fastest server first.

    No server gets a share of zero frames, so there are never more shares
    than frames. Runs that are not contiguous (frames left over after a
    failure) are never bridged: frames already done are not rendered again.
    """
    servers = sorted(
        (s for s, w in weights.items() if w > 0), key=lambda s: -weights[s]
    )
    if not frames or not servers:
        return []
    counts = _apportion(len(frames), [weights[s] for s in servers])
    shares = []
    index = 0
    for server, count in zip(servers, counts, strict=True):
        chunk = frames[index : index + count]
        index += count
        for start, end in frame_runs(chunk, step):
            shares.append(Share(server, start, end))
    return shares


def _apportion(total: int, weights: Sequence[float]) -> list[int]:
    """Whole counts summing to ``total``, by largest remainder."""
    scale = total / sum(weights)
    exact = [w * scale for w in weights]
    counts = [int(x) for x in exact]
    by_remainder = sorted(range(len(weights)), key=lambda i: counts[i] - exact[i])
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts
