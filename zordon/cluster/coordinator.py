"""Split jobs: share the frames out, follow the children, bring the frames home.

A job submitted with ``enable_split_jobs`` waits in ``waiting_for_subjobs``
while the coordinator's thread, once every ``TICK_S``:

1. creates a child job for each share on its server (this one included),
   sending only the input files that server lacks;
2. reads each child's state (children also push it to ``subjob_update``);
3. downloads the frames a child has finished into the parent's folder;
4. gives the unfinished frames of a child that failed, or whose server has
   not answered for ``LOST_AFTER_S``, to the servers still up;
5. when every frame is home, runs the engine's join steps (encode, concat)
   and completes the parent.

Which frames are home is read from the parent's folders, never stored, so a
restart resumes where it stopped and no frame is fetched twice.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from zordon.client import BadRequest, ClientError, RenderServerProxy
from zordon.cluster import capacity, gather
from zordon.cluster.packing import pack_input
from zordon.cluster.peers import PeerDirectory
from zordon.cluster.split import Share, contiguous, interleave
from zordon.engines import Engine
from zordon.errors import ZordonError
from zordon.jobs.blobs import manifest_of
from zordon.jobs.model import Job
from zordon.jobs.queue import JobQueue
from zordon.jobs.runner import task_for
from zordon.jobs.status import JobStatus

logger = logging.getLogger(__name__)

TICK_S = 2.0  # progress polls; status changes wake the loop at once
LOST_AFTER_S = 6.0
MAX_ATTEMPTS = 3
MIN_SEGMENT_S = 5.0
PROXY_TIMEOUT_S = 3.0


@dataclasses.dataclass
class Child:
    """One share of a split job, as the parent sees it."""

    server: str
    start_frame: int
    end_frame: int
    frames: list[int] | None = None
    id: str | None = None
    status: str = JobStatus.NOT_STARTED.value
    progress: float = 0.0
    frames_done: int = 0
    hostname: str = ""
    lost: bool = False
    error: str = ""

    @property
    def active(self) -> bool:
        return self.id is not None and not self.lost

    def frame_numbers(self, step: int) -> list[int]:
        if self.frames:
            return list(self.frames)
        return list(range(self.start_frame, self.end_frame + 1, step))

    @property
    def label(self) -> str:
        count = len(self.frames or ())
        if not count or count == self.end_frame - self.start_frame + 1:
            return f"frames {self.start_frame}-{self.end_frame}"
        return f"{count} frames from {self.start_frame} to {self.end_frame}"


@dataclasses.dataclass
class _Tree:
    """The input as sent to children: a folder, its main file, its digests."""

    root: Path
    main_file: str
    files: dict[str, str]


class Coordinator:
    """Runs every split job of this server."""

    def __init__(
        self, queue: JobQueue, peers: PeerDirectory, self_url: str, data_dir: Path
    ) -> None:
        self.queue = queue
        self.data_dir = data_dir
        self.store = queue.store
        self.peers = peers
        self.self_url = self_url.rstrip("/")
        self._trees: dict[str, _Tree] = {}
        # When each child's server last answered: silence is counted from
        # there, not from the first question that went unanswered.
        self._heard_at: dict[str, float] = {}
        self._saving = threading.Lock()
        # Children given up since start; the store has them after the tick.
        self._abandoned: set[str] = set()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.queue.split_jobs = True
        self.queue.on_submit.append(lambda _jobs: self._wake.set())
        self.queue.known_servers = lambda: {
            self.self_url,
            *(peer.url for peer in self.peers.peers()),
        }
        self.queue.on_cancel.append(self._cancel_children)
        self.queue.on_delete.append(self._delete_children)
        for parent in self.store.list(JobStatus.WAITING_FOR_SUBJOBS):
            self._log(parent, "server started: following this split job again")
        self._thread = threading.Thread(target=self._loop, name="coordinator")
        self._thread.daemon = True
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def subjob_update(self, parent_id: str, child: dict[str, Any]) -> bool:
        """A child says it changed; False when the parent no longer wants it.

        The push only wakes the coordinator, which then asks the child's own
        server: what a request claims about a child is never taken as fact.
        """
        parent = self.store.get(parent_id)
        child_id = str(child.get("id"))
        stored = {c.get("id"): c for c in parent.children}
        lost = child_id in self._abandoned or stored.get(child_id, {}).get("lost")
        if lost or parent.job_status.finished:
            return False
        self._wake.set()
        return True

    def _loop(self) -> None:
        while not self._stop.is_set():
            for parent in self.store.list(JobStatus.WAITING_FOR_SUBJOBS):
                try:
                    self._tick(parent)
                except Exception:
                    logger.exception("job %s: coordinating failed", parent.id)
            self._wake.wait(TICK_S)
            self._wake.clear()

    def _tick(self, parent: Job) -> None:
        engine = self.queue.engines.get(parent.renderer)
        children = [Child(**c) for c in parent.children]
        if not children:
            children = self._plan(parent, engine)
            if not children:
                return
        home = self._home(parent, engine)
        new = [c for c in children if c.id is None and not c.lost]
        if new:
            self._tree(parent)  # once, before the threads that send it
            self._each(new, lambda c: self._create(parent, engine, c, children, home))
        following = [c for c in children if c.active and c not in new]
        # One thread per child: a server that hangs holds up only its own.
        self._each(following, lambda c: self._follow(parent, engine, c, home))
        children += self._reassign(parent, children, home)
        if not self._save(parent, children, home):
            return  # cancelled or deleted meanwhile
        if len(home) == parent.total_frames:
            self._join(parent, engine)

    @staticmethod
    def _each(children: list[Child], work: Callable[[Child], None]) -> None:
        if children:
            with ThreadPoolExecutor(len(children)) as pool:
                list(pool.map(work, children))

    def _follow(
        self, parent: Job, engine: Engine, child: Child, home: set[int]
    ) -> None:
        if child.status != JobStatus.COMPLETED:
            self._refresh(parent, child)
        if child.active:
            self._gather(parent, engine, child, home)

    # splitting

    def _plan(self, parent: Job, engine: Engine) -> list[Child]:
        """Share the frames out; an unsplit job goes back to the local queue."""
        servers = self._candidates(parent, engine, exclude=set())
        servers = self._limit_segments(parent, engine, servers)
        shares = _share_out(engine, parent.frames, parent.frame_step, servers)
        if len({share.server for share in shares}) <= 1:
            self._log(parent, "not split: one server is enough for this job")
            self.store.set_status(parent.id, JobStatus.NOT_STARTED)
            self.queue.runner.wake()
            return []
        return [self._child_for(share) for share in shares]

    def _child_for(self, share: Share) -> Child:
        """A child for the share; a plain run of frames needs no frame list."""
        frames = list(share.frames)
        if frames == list(range(share.start_frame, share.end_frame + 1)):
            return Child(share.server, share.start_frame, share.end_frame)
        return Child(share.server, share.start_frame, share.end_frame, frames)

    def _server_url(self, server: str) -> str:
        """A hand-made split may name this server ``self`` or ``local``."""
        return self.self_url if server in ("self", "local") else server

    def _candidates(
        self, parent: Job, engine: Engine, exclude: set[str]
    ) -> dict[str, float]:
        """Servers that can render this job now, weighted by speed."""
        speeds: dict[str, dict[str, Any]] = {}
        version = parent.engine_version or ""
        local = capacity.availability(
            self.queue.engines, engine.name, self.store, self.data_dir, version
        )
        if _version_fits(parent, local) and self.self_url not in exclude:
            speeds[self.self_url] = local["speed"]
        for peer in self.peers.up_peers():
            if peer.url in exclude:
                continue
            try:
                proxy = self._proxy(peer.url)
                info = proxy.get_engine_availability(engine.name, version)
            except ClientError as exc:
                logger.debug("peer %s: no availability: %s", peer.url, exc)
                continue
            if _version_fits(parent, info):
                speeds[peer.url] = info.get("speed", {})
        return capacity.weights(speeds)

    def _limit_segments(
        self, parent: Job, engine: Engine, servers: dict[str, float]
    ) -> dict[str, float]:
        """A video is cut into segments of at least ``MIN_SEGMENT_S``."""
        fps = parent.facts.get("fps")
        if engine.name != "ffmpeg" or not fps:
            return servers
        parts = max(1, int(parent.total_frames / fps // MIN_SEGMENT_S))
        return _fastest(servers, parts)

    def _create(
        self,
        parent: Job,
        engine: Engine,
        child: Child,
        children: list[Child],
        home: set[int],
    ) -> None:
        """Make the child job on its server, and record it at once."""
        try:
            self._send_child(parent, engine, child)
        except Exception as exc:  # a server's odd answer fails this child alone
            logger.exception("job %s: making a child failed", parent.id)
            child.lost, child.error = True, f"could not create the child: {exc}"
        if not self._save(parent, children, home) and child.active:
            self._quietly_cancel(child)  # the parent was cancelled meanwhile

    def _send_child(self, parent: Job, engine: Engine, child: Child) -> None:
        """Make the child job on its server, sending the files it lacks."""
        tree = self._tree(parent)
        spec = {
            "name": f"{parent.name} [{child.label}]",
            "renderer": parent.renderer,
            **(
                {"engine_version": parent.engine_version}
                if parent.engine_version
                else {}
            ),
            "start_frame": child.start_frame,
            "end_frame": child.end_frame,
            "frame_step": parent.frame_step,
            **({"frames": child.frames} if engine.name != "ffmpeg" else {}),
            "args": engine.split_args(parent.args),
            "parent": f"{parent.id}@{self.self_url}",
        }
        child.server = self._server_url(child.server)
        proxy = self._proxy(child.server, transfer=True)
        try:
            made = proxy.create_job_from_tree(
                spec, tree.root, tree.main_file, tree.files
            )
        except ClientError as exc:
            child.lost, child.error = True, f"could not create the child: {exc}"
            self._log(parent, f"{child.server}: {child.error}")
            return
        if not isinstance(made, dict) or not isinstance(made.get("id"), str):
            raise ClientError(f"{child.server} answered add_job without a job id")
        child.id, child.status = made["id"], str(made.get("status", ""))
        child.hostname = self._hostname(child.server)
        self._log(
            parent,
            f"{child.label} sent to {child.hostname or child.server} as job {child.id}",
        )

    def _tree(self, parent: Job) -> _Tree:
        """The parent's input as a tree of files, packed once per parent."""
        tree = self._trees.get(parent.id)
        if tree is not None:
            return tree
        input_path = Path(parent.input_path)
        input_dir = parent.folder / "input"
        if not input_path.is_relative_to(input_dir):
            bundle = pack_input(input_path, parent.folder / "packed")
            for missing in bundle.missing:
                self._log(parent, f"dependency missing: {missing}")
            tree = _Tree(bundle.root, bundle.main_file, bundle.files)
        else:
            main = input_path.relative_to(input_dir).as_posix()
            tree = _Tree(input_dir, main, manifest_of(input_dir))
        for rel, digest in tree.files.items():
            self.queue.blobs.adopt(tree.root / rel, digest)
        self._trees[parent.id] = tree
        return tree

    # following children

    def _refresh(self, parent: Job, child: Child) -> None:
        """Update a child from its push or its server; give up on silent ones."""
        assert child.id is not None
        try:
            state = self._proxy(child.server).get_job(child.id)
            status = JobStatus(state["status"])
            progress = min(max(float(state.get("progress", 0.0)), 0.0), 1.0)
            frames_done = int(state.get("frames_done", 0))
        except BadRequest:
            self._lose(parent, child, "its job vanished from the server")
            return
        except (ClientError, KeyError, TypeError, ValueError) as exc:
            self._silent(parent, child, exc)
            return
        self._heard_at[child.id] = time.monotonic()
        child.status, child.frames_done = status.value, frames_done
        child.progress = progress if progress == progress else 0.0  # NaN
        if child.status in (JobStatus.ERROR, JobStatus.CANCELLED):
            reason = state.get("error") or child.status
            self._lose(parent, child, f"it ended in {child.status}: {reason}")

    def _silent(self, parent: Job, child: Child, exc: Exception) -> None:
        assert child.id is not None
        since = self._heard_at.setdefault(child.id, time.monotonic())
        if time.monotonic() - since >= LOST_AFTER_S:
            self._lose(parent, child, f"its server stopped answering ({exc})")

    def _lose(self, parent: Job, child: Child, reason: str) -> None:
        child.lost, child.error = True, reason
        if child.id is not None:
            self._abandoned.add(child.id)
        self._log(
            parent,
            f"{child.label} on {child.hostname or child.server} lost: {reason}",
        )
        threading.Thread(
            target=self._quietly_cancel, args=(child,), daemon=True
        ).start()

    def _quietly_cancel(self, child: Child) -> None:
        """Stop an abandoned child if its server still answers; it may not."""
        self._quietly(child, "cancel")

    def _quietly(self, child: Child, action: str) -> None:
        if child.id is None:
            return
        proxy = self._proxy(child.server)
        call = proxy.cancel_job if action == "cancel" else proxy.delete_job
        try:
            call(child.id)
        except ClientError as exc:
            logger.debug(
                "child %s on %s: %s failed: %s", child.id, child.server, action, exc
            )

    # bringing frames home

    def _home(self, parent: Job, engine: Engine) -> set[int]:
        """The job's own frames that are home; stray files count for nothing."""
        home = gather.frames_home(parent, segmented=engine.name == "ffmpeg")
        return home & set(parent.frames)

    def _gather(
        self, parent: Job, engine: Engine, child: Child, home: set[int]
    ) -> None:
        """Download the child's finished frames that are not home yet."""
        assert child.id is not None
        frames = child.frame_numbers(parent.frame_step)
        if child.status == "completed":
            done = frames
        elif engine.name == "ffmpeg":
            return  # a segment is whole or nothing
        else:
            done = frames[: child.frames_done]
        wanted = [f for f in done if f not in home]
        if not wanted:
            return
        proxy = self._proxy(child.server, transfer=True)
        try:
            if engine.name != "ffmpeg":
                home.update(gather.fetch_frames(parent, proxy, child.id, wanted))
            elif gather.fetch_segment(
                parent, proxy, child.id, child.start_frame, child.end_frame
            ):
                home.update(frames)
                self._log(parent, f"segment {child.label} home")
            else:
                self._lose(parent, child, "it finished without an output file")
        except ClientError as exc:
            self._silent(parent, child, exc)  # a child whose frames never come is lost

    # failures

    def _reassign(
        self, parent: Job, children: list[Child], home: set[int]
    ) -> list[Child]:
        """New children for frames that no live child covers and are not home."""
        covered = {
            frame
            for child in children
            if not child.lost
            for frame in child.frame_numbers(parent.frame_step)
        }
        orphans = [f for f in parent.frames if f not in home and f not in covered]
        if not orphans:
            return []
        tries = max(_attempts(children, f, parent.frame_step) for f in orphans)
        if tries >= MAX_ATTEMPTS:
            last = next((c.error for c in reversed(children) if c.lost), "")
            self._fail(parent, f"frames failed {tries} times; last: {last}")
            return []
        engine = self.queue.engines.get(parent.renderer)
        # Servers that lost frames get none of them back, while others can.
        failed = {c.server for c in children if c.lost}
        servers = self._candidates(parent, engine, exclude=failed)
        servers = servers or self._candidates(parent, engine, exclude=set())
        if parent.renderer == "ffmpeg":
            servers = _fastest(servers, 1)
        shares = _share_out(engine, orphans, parent.frame_step, servers)
        children = [self._child_for(share) for share in shares]
        for child in children:
            self._log(parent, f"{child.label} re-sent to {child.server}")
        return children

    def _fail(self, parent: Job, reason: str) -> None:
        self._log(parent, f"giving up: {reason}")
        self.store.set_status(parent.id, JobStatus.ERROR, reason)
        self._cancel_children(self.store.get(parent.id))

    # finishing

    def _save(self, parent: Job, children: list[Child], home: set[int]) -> bool:
        """Store the children and progress; False if the parent stopped waiting."""
        total = max(parent.total_frames, 1)
        running = 0.0
        for child in children:
            if child.active and child.status != "completed":
                frames = child.frame_numbers(parent.frame_step)
                mine = sum(1 for f in frames if f in home)
                running += max(child.progress * len(frames) - mine, 0.0)
        fields = {
            "children": [dataclasses.asdict(c) for c in children],
            "frames_done": len(home),
            "progress": round(min((len(home) + running) / total, 0.999), 4),
        }
        with self._saving:
            try:
                current = self.store.get(parent.id)
            except ZordonError:
                return False
            if current.job_status != JobStatus.WAITING_FOR_SUBJOBS:
                return False
            if any(getattr(current, key) != value for key, value in fields.items()):
                self.store.update(parent.id, **fields)  # wakes long-polls
        return True

    def _join(self, parent: Job, engine: Engine) -> None:
        """Every frame is home: run the engine's join steps and complete."""
        pieces = gather.segments(parent)
        task = task_for(parent)
        self._log(parent, "every frame is home")
        self._trees.pop(parent.id, None)
        self.queue.runner.run_steps(parent, lambda: engine.join_steps(task, pieces))

    # cancel and delete

    def _cancel_children(self, parent: Job) -> None:
        for child in (Child(**c) for c in parent.children):
            if child.active:
                self._quietly_cancel(child)

    def _delete_children(self, parent: Job) -> None:
        for child in (Child(**c) for c in parent.children):
            self._quietly(child, "delete")

    # helpers

    def _proxy(self, url: str, transfer: bool = False) -> RenderServerProxy:
        proxy = self.peers.proxy(url)
        proxy.timeout_s = PROXY_TIMEOUT_S * (6 if transfer else 1)
        return proxy

    def _hostname(self, url: str) -> str:
        if url == self.self_url:
            return f"this server ({url})"
        name = next((p.hostname for p in self.peers.peers() if p.url == url), None)
        return f"{name} ({url})" if name else url

    def _log(self, parent: Job, message: str) -> None:
        logger.info("job %s: %s", parent.id, message)
        parent.folder.mkdir(parents=True, exist_ok=True)
        with open(parent.log_path, "a", encoding="utf-8") as log:
            log.write(f"Zordon: {message}\n")


def _fastest(servers: dict[str, float], count: int) -> dict[str, float]:
    """The ``count`` fastest servers with their weights."""
    chosen = sorted(servers, key=lambda url: -servers[url])[:count]
    return {url: servers[url] for url in chosen}


def _share_out(
    engine: Engine, frames: list[int], step: int, servers: dict[str, float]
) -> list[Share]:
    """Video segments stay whole; image frames are dealt out for balance."""
    if engine.name == "ffmpeg":
        return contiguous(frames, step, servers)
    return interleave(frames, servers)


def _attempts(children: list[Child], frame: int, step: int) -> int:
    return sum(1 for c in children if c.lost and frame in c.frame_numbers(step))


def _version_fits(parent: Job, info: dict[str, Any]) -> bool:
    """The server has the parent's engine version, or may fetch it."""
    if not parent.engine_version:
        return bool(info.get("available"))
    has = parent.engine_version in info.get("versions", [])
    return has or bool(info.get("version_ready"))
