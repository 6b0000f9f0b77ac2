"""Write a small sample scene: a cube moving past a camera, rendered by Cycles.

Runs inside Blender, which passes its own arguments before ``--``::

    blender -b --factory-startup --python scripts/make_scene.py -- OUT.blend \
        [--frames 8] [--width 320] [--height 180] [--samples 16]
"""

import argparse
import sys

import bpy


def parse_args() -> argparse.Namespace:
    argv = sys.argv[sys.argv.index("--") + 1 :] if "--" in sys.argv else []
    parser = argparse.ArgumentParser(prog="make_scene.py")
    parser.add_argument("output", help="where to save the .blend")
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--width", type=int, default=320)
    parser.add_argument("--height", type=int, default=180)
    parser.add_argument("--samples", type=int, default=16)
    return parser.parse_args(argv)


def set_render(scene: bpy.types.Scene, args: argparse.Namespace) -> None:
    scene.render.engine = "CYCLES"
    scene.cycles.device = "CPU"
    scene.cycles.samples = args.samples
    # Debian's Blender is built without OpenImageDenoise.
    scene.cycles.use_denoising = False
    scene.render.resolution_x = args.width
    scene.render.resolution_y = args.height
    scene.render.resolution_percentage = 100
    scene.render.image_settings.file_format = "PNG"
    scene.frame_start = 1
    scene.frame_end = args.frames


def orange_material() -> bpy.types.Material:
    material = bpy.data.materials.new("Orange")
    material.use_nodes = True
    shader = material.node_tree.nodes["Principled BSDF"]
    shader.inputs["Base Color"].default_value = (0.8, 0.25, 0.03, 1.0)
    return material


def add_moving_cube(scene: bpy.types.Scene) -> None:
    bpy.ops.mesh.primitive_cube_add(size=1.5, location=(-2.5, 0.0, 0.0))
    cube = bpy.context.active_object
    cube.data.materials.append(orange_material())
    cube.keyframe_insert("location", frame=scene.frame_start)
    cube.location.x = 2.5
    cube.rotation_euler.z = 1.2
    cube.keyframe_insert("location", frame=scene.frame_end)
    cube.keyframe_insert("rotation_euler", frame=scene.frame_end)


def add_stage(scene: bpy.types.Scene) -> None:
    """A floor, a sky-coloured world, a sun and a camera looking at the cube."""
    bpy.ops.mesh.primitive_plane_add(size=40.0, location=(0.0, 0.0, -0.75))
    scene.world = bpy.data.worlds.new("Sky")
    scene.world.color = (0.05, 0.07, 0.12)
    bpy.ops.object.light_add(type="SUN", rotation=(0.7, 0.2, 0.6))
    bpy.context.active_object.data.energy = 3.0
    bpy.ops.object.camera_add(location=(0.0, -11.0, 3.0), rotation=(1.32, 0.0, 0.0))
    scene.camera = bpy.context.active_object


def main() -> None:
    args = parse_args()
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    set_render(scene, args)
    add_moving_cube(scene)
    add_stage(scene)
    bpy.ops.wm.save_as_mainfile(filepath=args.output)
    print(f"saved {args.output}: {args.frames} frames at {args.width}x{args.height}")


main()
