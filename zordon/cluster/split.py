"""Dividing frames between servers in proportion to their speed."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence


@dataclasses.dataclass(frozen=True)
class Share:
    """The frames one server renders, in order."""

    server: str
    frames: tuple[int, ...]

    @property
    def start_frame(self) -> int:
        return self.frames[0]

    @property
    def end_frame(self) -> int:
        return self.frames[-1]


def frame_runs(frames: Sequence[int], step: int) -> list[tuple[int, int]]:
    """Group sorted frames into runs with no gap wider than ``step``."""
    runs: list[tuple[int, int]] = []
    for frame in frames:
        if runs and frame - runs[-1][1] == step:
            runs[-1] = (runs[-1][0], frame)
        else:
            runs.append((frame, frame))
    return runs


def interleave(frames: Sequence[int], weights: Mapping[str, float]) -> list[Share]:
    """Deal the frames out like cards, each server's hand sized by its weight.

    Neighbouring frames cost about the same to render, so dealing them out
    spreads the heavy and light parts of a shot evenly and every server
    finishes at about the same time. Each server renders its hand in one
    process. A server dealt nothing gets no share, so there are never more
    shares than frames.
    """
    servers = _by_weight(weights)
    if not frames or not servers:
        return []
    total = sum(weights[s] for s in servers)
    credit = dict.fromkeys(servers, 0.0)
    hands: dict[str, list[int]] = {s: [] for s in servers}
    for frame in frames:
        for server in servers:
            credit[server] += weights[server]
        chosen = max(servers, key=lambda s: credit[s])
        credit[chosen] -= total
        hands[chosen].append(frame)
    return [Share(s, tuple(hands[s])) for s in servers if hands[s]]


def contiguous(
    frames: Sequence[int], step: int, weights: Mapping[str, float]
) -> list[Share]:
    """Runs of neighbouring frames by weight, fastest server first.

    For work that must stay in one piece per server (a video segment).
    Runs that are not contiguous (frames left after a failure) are never
    bridged, so frames already done are not made again.
    """
    servers = _by_weight(weights)
    if not frames or not servers:
        return []
    counts = _apportion(len(frames), [weights[s] for s in servers])
    shares = []
    index = 0
    for server, count in zip(servers, counts, strict=True):
        chunk = frames[index : index + count]
        index += count
        for start, end in frame_runs(chunk, step):
            shares.append(Share(server, tuple(range(start, end + 1, step))))
    return shares


def _by_weight(weights: Mapping[str, float]) -> list[str]:
    return sorted((s for s, w in weights.items() if w > 0), key=lambda s: -weights[s])


def _apportion(total: int, weights: Sequence[float]) -> list[int]:
    """Whole counts summing to ``total``, by largest remainder."""
    scale = total / sum(weights)
    exact = [w * scale for w in weights]
    counts = [int(x) for x in exact]
    by_remainder = sorted(range(len(weights)), key=lambda i: counts[i] - exact[i])
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts
