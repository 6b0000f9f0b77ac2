"""Sharing frames out by weight."""

from zordon.cluster.capacity import weights
from zordon.cluster.split import Share, contiguous, frame_runs, interleave


def test_equal_servers_are_dealt_alternate_frames() -> None:
    shares = interleave(list(range(1, 9)), {"a": 1.0, "b": 1.0})
    assert shares == [Share("a", (1, 3, 5, 7)), Share("b", (2, 4, 6, 8))]


def test_hands_follow_the_weights_and_spread_over_the_range() -> None:
    shares = interleave(list(range(1, 41)), {"fast": 3.0, "slow": 1.0})
    hands = {s.server: s.frames for s in shares}
    assert len(hands["fast"]) == 30 and len(hands["slow"]) == 10
    assert hands["slow"][0] <= 4 and hands["slow"][-1] >= 37


def test_every_frame_is_dealt_exactly_once() -> None:
    frames = list(range(3, 103, 2))
    shares = interleave(frames, {"a": 2.5, "b": 1.0, "c": 0.7})
    dealt = sorted(f for share in shares for f in share.frames)
    assert dealt == frames


def test_a_one_frame_job_goes_to_one_server() -> None:
    shares = interleave([7], {"a": 1.0, "b": 1.0, "c": 1.0})
    assert shares == [Share("a", (7,))]


def test_no_server_gets_a_share_without_frames() -> None:
    shares = interleave([1, 2], dict.fromkeys("abcde", 1.0))
    assert [len(s.frames) for s in shares] == [1, 1]


def test_segments_are_contiguous_runs_by_weight() -> None:
    shares = contiguous(list(range(1, 25)), 1, {"a": 1.0, "b": 1.0})
    assert [(s.start_frame, s.end_frame) for s in shares] == [(1, 12), (13, 24)]


def test_leftover_frames_are_never_bridged_over_done_ones() -> None:
    shares = contiguous([1, 2, 5, 6], 1, {"a": 1.0})
    assert [s.frames for s in shares] == [(1, 2), (5, 6)]


def test_stepped_frames_stay_in_one_run() -> None:
    assert frame_runs([1, 4, 7, 10], 3) == [(1, 10)]


def test_weights_compare_servers_on_a_split_job_both_rendered() -> None:
    speeds = {
        "a": {"split_fps": {"p2@x": 2.0, "p1@x": 9.0}, "cpu_score": 10},
        "b": {"split_fps": {"p1@x": 3.0, "p2@x": 1.0}, "cpu_score": 30},
    }
    assert weights(speeds) == {"a": 2.0, "b": 1.0}


def test_speeds_within_run_to_run_noise_count_as_equal() -> None:
    speeds = {
        "a": {"split_fps": {"p1@x": 1.1}},
        "b": {"split_fps": {"p1@x": 1.0}},
    }
    assert weights(speeds) == {"a": 1.0, "b": 1.0}


def test_without_a_shared_split_job_the_benchmark_then_the_cores_decide() -> None:
    speeds = {
        "a": {"split_fps": {"p1@x": 2.0}, "cpu_score": 10, "cpu_count": 8},
        "b": {"split_fps": {}, "cpu_score": 30, "cpu_count": 2},
    }
    assert weights(speeds) == {"a": 10.0, "b": 30.0}
    speeds["b"]["cpu_score"] = None
    assert weights(speeds) == {"a": 8.0, "b": 2.0}
