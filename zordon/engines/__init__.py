"""Engine adapters: one per render program, on a shared base."""

from zordon.engines.base import Engine, ProjectInfo, RenderTask, Step, Tracker
from zordon.engines.registry import EngineRegistry

__all__ = ["Engine", "EngineRegistry", "ProjectInfo", "RenderTask", "Step", "Tracker"]
