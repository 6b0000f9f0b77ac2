"""Previews from frames made here: stills, caching, video, failures."""

from __future__ import annotations

import os
import shutil
import struct

import pytest
from PIL import Image, ImageStat

from tests.helpers import new_job, probe_video, wait_until
from zordon.errors import NotFound, PreviewError
from zordon.previews import BIG_PX, SMALL_PX, PreviewCache
from zordon.thumbnails import Tools, tone_map


@pytest.fixture
def cache():
    ffmpeg = shutil.which("ffmpeg")
    built = PreviewCache(Tools(ffmpeg, shutil.which("ffprobe")))
    yield built
    built.close()


@pytest.fixture
def job(tmp_path):
    made = new_job(tmp_path / "jobs", status="running")
    made.output_dir.mkdir(parents=True)
    return made


def add_frame(job, number, color=(200, 60, 30), size=(1600, 900)):
    path = job.output_dir / f"shot_{number:04d}.png"
    Image.new("RGB", size, color).save(path)
    stamp = 1_700_000_000 + number  # newer frames, newer times
    os.utime(path, (stamp, stamp))
    return path


def test_a_job_without_frames_has_no_preview(cache, job):
    with pytest.raises(NotFound):
        cache.image(job)


def test_the_small_and_big_stills_are_jpegs_of_the_newest_frame(cache, job):
    add_frame(job, 1, color=(0, 0, 255))
    add_frame(job, 2, color=(255, 0, 0))

    small, big = cache.image(job), cache.image(job, big=True)

    with Image.open(small) as image:
        assert image.format == "JPEG"
        assert max(image.size) == SMALL_PX
        assert image.getpixel((10, 10))[0] > 200  # red: frame 2
    with Image.open(big) as image:
        assert max(image.size) == BIG_PX


def test_a_cached_still_is_served_again_without_a_rebuild(cache, job):
    add_frame(job, 1)
    first = cache.image(job)
    made_at = first.stat().st_mtime_ns

    again = cache.image(job)

    assert again == first
    assert again.stat().st_mtime_ns == made_at


def test_a_new_frame_is_shown_after_a_rebuild_in_the_background(cache, job):
    add_frame(job, 1, color=(0, 0, 255))
    path = cache.image(job)
    add_frame(job, 2, color=(255, 0, 0))

    served = cache.image(job)  # the old one, while the new one is made

    def shows_red():
        with Image.open(cache.image(job)) as image:
            return image.getpixel((10, 10))[0] > 200

    assert served == path
    wait_until(shows_red, timeout_s=20, what="the rebuilt still")


def test_the_video_preview_holds_every_frame_so_far(cache, job):
    for number in (1, 2, 3):
        add_frame(job, number, color=(80 * number, 40, 40))

    video = cache.video(job)

    facts = probe_video(video)
    assert facts["nb_read_frames"] == 3
    assert facts["width"] <= 640


def test_one_frame_gives_no_video(cache, job):
    add_frame(job, 1)

    assert cache.video(job) is None


def test_unreadable_frames_fail_with_their_name(cache, job):
    (job.output_dir / "shot_0001.png").write_bytes(b"not a png at all")

    with pytest.raises(PreviewError, match=r"shot_0001\.png"):
        cache.image(job)


def test_a_16_bit_grey_frame_is_not_clipped_white(cache, job):
    Image.new("I;16", (64, 64), 30000).save(job.output_dir / "grey_0001.png")

    with Image.open(cache.image(job)) as image:
        level = ImageStat.Stat(image.convert("L")).mean[0]

    assert 100 < level < 140  # 30000 of 65535


def float_channel(values, width=4):
    height = len(values) // width
    raw = struct.pack(f"<{len(values)}f", *values)
    return Image.frombytes("F", (width, height), raw, "raw", "F;32F")


def test_tone_mapping_keeps_highlights_apart_instead_of_clipping():
    channel = float_channel([0.0, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0])

    (mapped,) = tone_map([channel])

    levels = list(mapped.get_flattened_data())
    assert levels == sorted(levels)
    assert len(set(levels[3:])) == 5  # 2.0 ... 32.0 stay distinct
    assert levels[-1] == 255


def test_tone_mapping_leaves_a_frame_within_one_as_displayed():
    channel = float_channel([0.0, 0.2, 0.5, 1.0])

    (mapped,) = tone_map([channel])

    assert list(mapped.get_flattened_data()) == [0, 122, 186, 255]
