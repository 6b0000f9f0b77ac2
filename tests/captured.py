"""Output lines captured from real runs of Blender 3.4.1 and FFmpeg 5.1.

Blender: ``blender -b -Y scene.blend -o out/f_#### -F PNG -x 1 -s 1 -e 2 -a``
on a 64x36 Cycles scene with 2 samples (and the same on an EEVEE scene, on a
.blend that is only the magic bytes, and on a scene without a camera).
FFmpeg: ``ffmpeg -i clip.mp4 ... -progress pipe:1 -nostats out.mp4`` on a
2 s testsrc clip, and the same with a scale the encoder refuses.
"""

BLENDER_TWO_FRAMES = [
    "Blender 3.4.1",
    "Read blend: /tmp/cap/scene.blend",
    "Fra:1 Mem:9.05M (Peak 10.83M) | Time:00:00.00 | Mem:0.00M, Peak:0.00M"
    " | Scene, ViewLayer | Synchronizing object | Cube",
    "Fra:1 Mem:8.90M (Peak 10.83M) | Time:00:00.00 | Mem:0.00M, Peak:0.00M"
    " | Scene, ViewLayer | Loading render kernels"
    " (may take a few minutes the first time)",
    "Fra:1 Mem:9.91M (Peak 10.83M) | Time:00:00.04 | Mem:0.76M, Peak:0.76M"
    " | Scene, ViewLayer | Sample 0/2",
    "Fra:1 Mem:9.99M (Peak 10.83M) | Time:00:00.04 | Remaining:00:00.00"
    " | Mem:0.84M, Peak:0.84M | Scene, ViewLayer | Sample 1/2",
    "Fra:1 Mem:10.03M (Peak 10.83M) | Time:00:00.05 | Mem:0.84M, Peak:0.84M"
    " | Scene, ViewLayer | Sample 2/2",
    "Fra:1 Mem:10.03M (Peak 10.83M) | Time:00:00.05 | Mem:0.84M, Peak:0.84M"
    " | Scene, ViewLayer | Finished",
    "Saved: '/tmp/cap/out/f_0001.png'",
    " Time: 00:00.16 (Saving: 00:00.11)",
    "",
    "Fra:2 Mem:9.30M (Peak 10.83M) | Time:00:00.00 | Mem:0.00M, Peak:0.00M"
    " | Scene, ViewLayer | Synchronizing object | Cube",
    "Fra:2 Mem:9.91M (Peak 10.83M) | Time:00:00.00 | Mem:0.76M, Peak:0.76M"
    " | Scene, ViewLayer | Sample 0/2",
    "Fra:2 Mem:10.00M (Peak 10.83M) | Time:00:00.00 | Remaining:00:00.00"
    " | Mem:0.84M, Peak:0.84M | Scene, ViewLayer | Sample 1/2",
    "Fra:2 Mem:10.03M (Peak 10.83M) | Time:00:00.00 | Mem:0.84M, Peak:0.84M"
    " | Scene, ViewLayer | Sample 2/2",
    "Fra:2 Mem:10.03M (Peak 10.83M) | Time:00:00.00 | Mem:0.84M, Peak:0.84M"
    " | Scene, ViewLayer | Finished",
    "Saved: '/tmp/cap/out/f_0002.png'",
    " Time: 00:00.00 (Saving: 00:00.00)",
    "",
    "",
    "Blender quit",
]

BLENDER_EEVEE_FRAME = [
    "Fra:1 Mem:10.77M (Peak 11.89M) | Time:00:02.07 | Syncing Camera",
    "Fra:1 Mem:10.77M (Peak 11.89M) | Time:00:02.07 | Rendering 1 / 2 samples",
    "Fra:1 Mem:10.77M (Peak 11.89M) | Time:00:04.51 | Rendering 2 / 2 samples",
    "Saved: '/tmp/cap/out/e_0001.png'",
    " Time: 00:04.67 (Saving: 00:00.12)",
]

BLENDER_CORRUPT_FILE = [
    "Blender 3.4.1",
    "Read blend: /tmp/cap/corrupt.blend",
    "Error: Failed to read blend file '/tmp/cap/corrupt.blend', not a blend file",
    "",
    "Blender quit",
]

BLENDER_NO_CAMERA = [
    "Blender 3.4.1",
    "Read blend: /tmp/cap/nocam.blend",
    "Error: Cannot render, no camera",
    "",
    "Blender quit",
]

FFMPEG_PROGRESS = [
    "Stream mapping:",
    "  Stream #0:0 -> #0:0 (h264 (native) -> h264 (libx264))",
    "frame=1",
    "fps=0.00",
    "stream_0_0_q=0.0",
    "bitrate=N/A",
    "total_size=48",
    "out_time_us=0",
    "out_time_ms=0",
    "out_time=00:00:00.000000",
    "dup_frames=0",
    "drop_frames=0",
    "speed=   0x",
    "progress=continue",
    "frame=   20 fps=0.0 q=25.0 Lsize=       4kB time=00:00:01.70"
    " bitrate=  19.0kbits/s speed= 167x    ",
    "frame=20",
    "fps=0.00",
    "stream_0_0_q=25.0",
    "bitrate=  19.0kbits/s",
    "total_size=4036",
    "out_time_us=1700098",
    "out_time_ms=1700098",
    "out_time=00:00:01.700098",
    "dup_frames=0",
    "drop_frames=0",
    "speed= 167x",
    "progress=end",
    "video:3kB audio:0kB subtitle:0kB other streams:0kB global headers:0kB"
    " muxing overhead: 31.380209%",
    "[libx264 @ 0x56238ca57a40] kb/s:9.53",
]

FFMPEG_ODD_HEIGHT = [
    "Stream mapping:",
    "  Stream #0:0 -> #0:0 (h264 (native) -> h264 (libx264))",
    "[libx264 @ 0x557f56dd7ec0] height not divisible by 2 (62x35)",
    "Error initializing output stream 0:0 -- Error while opening encoder for"
    " output stream #0:0 - maybe incorrect parameters such as bit_rate, rate,"
    " width or height",
    "Conversion failed!",
]
