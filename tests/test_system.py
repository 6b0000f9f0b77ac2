"""Host facts: the CPU meter and the saved benchmark score."""

import threading
import time

from zordon import system


def burn_cpu(seconds):
    until = time.process_time() + seconds
    while time.process_time() < until:
        pass


def test_the_cpu_meter_sees_work_from_any_thread():
    meter = system.CpuMeter(window_s=60)
    burn_cpu(0.3)
    seen = []

    for _ in range(3):  # each call on a thread of its own, as in the server
        thread = threading.Thread(target=lambda: seen.append(meter.percent()))
        thread.start()
        thread.join()

    assert all(0 < percent <= 100 for percent in seen)


def test_a_saved_cpu_score_is_read_back(tmp_path):
    assert system.cpu_score(tmp_path) is None

    system.save_cpu_score(tmp_path, 88.5, seconds=10)

    assert system.cpu_score(tmp_path) == 88.5
