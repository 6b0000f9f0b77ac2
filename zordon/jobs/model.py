"""The job row, as SQLAlchemy maps it, and its JSON form."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from zordon.jobs.status import JobStatus


class Base(DeclarativeBase):
    pass


def new_job_id() -> str:
    return uuid.uuid4().hex[:12]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Job(Base):
    """One render or encode, on this server or split across several."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_job_id)
    name: Mapped[str] = mapped_column(String(200))
    renderer: Mapped[str] = mapped_column(String(40))
    engine_version: Mapped[str | None] = mapped_column(String(40))
    input_path: Mapped[str] = mapped_column(Text)
    output_path: Mapped[str] = mapped_column(Text)
    start_frame: Mapped[int] = mapped_column(Integer)
    end_frame: Mapped[int] = mapped_column(Integer)
    frame_step: Mapped[int] = mapped_column(Integer, default=1)
    # Set when the job renders a list of frames rather than a range.
    frame_list: Mapped[list[int] | None] = mapped_column(JSON)
    args: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    facts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(32), default=JobStatus.NOT_STARTED)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    frames_done: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    enable_split_jobs: Mapped[bool] = mapped_column(Boolean, default=False)
    parent: Mapped[str | None] = mapped_column(Text)
    children: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    @property
    def job_status(self) -> JobStatus:
        return JobStatus(self.status)

    @property
    def total_frames(self) -> int:
        return len(self.frames)

    @property
    def frames(self) -> list[int]:
        """Every frame the job renders, in order."""
        if self.frame_list:
            return list(self.frame_list)
        return list(range(self.start_frame, self.end_frame + 1, self.frame_step))

    @property
    def output_dir(self) -> Path:
        return Path(self.output_path)

    @property
    def folder(self) -> Path:
        """The folder Zordon made for this job; deleting the job removes it."""
        return self.output_dir.parent

    @property
    def log_path(self) -> Path:
        return self.folder / "job.log"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "status": self.status,
            "renderer": self.renderer,
            "engine_version": self.engine_version,
            "input_file": Path(self.input_path).name,
            "output_dir": self.output_path,
            "start_frame": self.start_frame,
            "end_frame": self.end_frame,
            "frame_step": self.frame_step,
            "frames": self.frame_list,
            "total_frames": self.total_frames,
            "frames_done": self.frames_done,
            "progress": round(self.progress, 4),
            "error": self.error,
            "args": self.args,
            "facts": self.facts,
            "enable_split_jobs": self.enable_split_jobs,
            "parent": self.parent,
            "children": self.children,
            "created_at": _iso(self.created_at),
            "started_at": _iso(self.started_at),
            "finished_at": _iso(self.finished_at),
        }


def _iso(moment: dt.datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.isoformat()
