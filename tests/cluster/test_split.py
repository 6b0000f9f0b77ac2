"""Sharing frames out by weight."""

from zordon.cluster.capacity import weights
from zordon.cluster.split import Share, frame_runs, split_frames


def test_equal_servers_get_equal_contiguous_shares() -> None:
    shares = split_frames(list(range(1, 25)), 1, {"a": 1.0, "b": 1.0})
    assert shares == [Share("a", 1, 12), Share("b", 13, 24)]


def test_shares_follow_the_weights() -> None:
    shares = split_frames(list(range(1, 41)), 1, {"fast": 3.0, "slow": 1.0})
    sizes = {s.server: s.end_frame - s.start_frame + 1 for s in shares}
    assert sizes == {"fast": 30, "slow": 10}


def test_a_one_frame_job_goes_to_one_server() -> None:
    shares = split_frames([7], 1, {"a": 1.0, "b": 1.0, "c": 1.0})
    assert shares == [Share("a", 7, 7)]


def test_no_server_gets_more_shares_than_there_are_frames() -> None:
    shares = split_frames([1, 2], 1, dict.fromkeys("abcde", 1.0))
    assert len(shares) == 2
    assert sum(s.end_frame - s.start_frame + 1 for s in shares) == 2


def test_leftover_frames_are_never_bridged_over_done_ones() -> None:
    shares = split_frames([1, 2, 5, 6], 1, {"a": 1.0})
    assert shares == [Share("a", 1, 2), Share("a", 5, 6)]


def test_stepped_frames_stay_in_one_run() -> None:
    assert frame_runs([1, 4, 7, 10], 3) == [(1, 10)]


def test_weights_prefer_measured_speed_then_benchmark_then_cores() -> None:
    speeds = {
        "a": {"frames_per_second": 2.0, "cpu_score": 10, "cpu_count": 8},
        "b": {"frames_per_second": None, "cpu_score": 30, "cpu_count": 2},
    }
    assert weights(speeds) == {"a": 10.0, "b": 30.0}
    speeds["b"]["cpu_score"] = None
    assert weights(speeds) == {"a": 8.0, "b": 2.0}
