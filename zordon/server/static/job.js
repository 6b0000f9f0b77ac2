// One job: frames filling in, children and their servers, the log tail,
// the files, and cancel / delete / render again.

import { blobUrl, download, getJson, getText, postJson } from "./api.js";
import { server } from "./app.js";
import { JobWatch } from "./live.js";
import {
  FINISHED,
  childName,
  confirmAction,
  duration,
  elapsedSeconds,
  h,
  hostOf,
  progressBar,
  remainingSeconds,
  sleep,
  statusBadge,
  toast,
  when,
} from "./util.js";

const LOG_LINES = 300;
const REFRESH_GAP_MS = 700;
const FRAME_NUMBER = /(\d+)\.[A-Za-z0-9]+$/;

export function mount(view, jobId) {
  const page = new JobPage(view, jobId);
  return () => page.stop();
}

class JobPage {
  constructor(view, jobId) {
    this.id = jobId;
    this.view = view;
    this.previewKey = null;
    this.previewUrl = null;
    this.busy = false;
    this.again = false;
    this.build();
    // limit=0: the long-poll only says "something changed"; this page then
    // asks for its own job, at most once per REFRESH_GAP_MS.
    this.watch = new JobWatch({ limit: 0 }, () => this.refresh());
    this.watch.start();
    this.onHost = () => this.refresh();
    window.addEventListener("zordon:host", this.onHost);
  }

  stop() {
    this.watch.stop();
    window.removeEventListener("zordon:host", this.onHost);
    this.stopped = true;
    if (this.previewUrl) URL.revokeObjectURL(this.previewUrl);
  }

  build() {
    this.title = h("h1", {}, "Job");
    this.badge = h("span");
    this.bar = h("div.detail-progress");
    this.facts = h("dl.facts");
    this.preview = h("div.preview", {}, h("p.muted", {}, "No frame yet."));
    this.grid = h("div.frame-grid", { "aria-label": "frames" });
    this.gridNote = h("p.muted");
    this.children = h("div.children");
    this.files = h("ul.files");
    this.log = h("pre.log", { tabIndex: 0 });
    this.buttons = h(
      "div.actions",
      {},
      h("button", { id: "render-again", onclick: () => this.renderAgain() }, "Render again"),
      (this.cancelButton = h("button", { id: "cancel-job", onclick: () => this.cancel() }, "Cancel")),
      h("button.danger", { id: "delete-job", onclick: () => this.delete() }, "Delete"),
    );
    this.view.append(
      h("p.crumbs", {}, h("a", { href: "#/jobs" }, "← All jobs")),
      h("div.page-head", {}, h("div.title-line", {}, this.title, this.badge), this.buttons),
      this.bar,
      h(
        "div.detail",
        {},
        h("section.card.span2", {}, h("h2", {}, "Frames"), this.gridNote, this.grid),
        h("section.card", {}, h("h2", {}, "Latest frame"), this.preview),
        h("section.card", {}, h("h2", {}, "Job"), this.facts),
        h("section.card", {}, h("h2", {}, "Servers"), this.children),
        h(
          "section.card",
          {},
          h(
            "div.card-head",
            {},
            h("h2", {}, "Files"),
            h("button", { id: "download-all", onclick: () => this.downloadAll() }, "Download all"),
          ),
          this.files,
        ),
        h("section.card.span2", {}, h("h2", {}, "Log"), this.log),
      ),
    );
  }

  // Coalesces bursts of changes (progress ticks) into one refresh at a time.
  async refresh() {
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = true;
    try {
      do {
        this.again = false;
        await this.load();
        await sleep(REFRESH_GAP_MS);
      } while (this.again && !this.stopped);
    } finally {
      this.busy = false;
    }
  }

  async load() {
    let job;
    try {
      job = await getJson(`/api/jobs/${this.id}`);
    } catch (error) {
      this.gone(error);
      return;
    }
    if (this.stopped) return;
    const [files, log] = await Promise.all([
      getJson(`/api/jobs/${this.id}/files`).catch(() => []),
      getText(`/api/jobs/${this.id}/logs?tail=${LOG_LINES}`).catch(() => ""),
    ]);
    if (this.stopped) return;
    this.job = job;
    this.showHead(job);
    this.showFacts(job);
    this.showGrid(job, files);
    this.showChildren(job);
    this.showFiles(files);
    this.showLog(log);
    this.showPreview(job, files);
  }

  gone(error) {
    this.watch.stop();
    this.view.replaceChildren(
      h("p.crumbs", {}, h("a", { href: "#/jobs" }, "← All jobs")),
      h("p.notice", {}, `Job ${this.id} is not on this server (${error.message}).`),
    );
  }

  showHead(job) {
    this.title.textContent = job.name;
    document.title = `${job.name} · Zordon`;
    this.badge.replaceChildren(statusBadge(job.status));
    this.bar.replaceChildren(progressBar(job.progress, job.status));
    this.cancelButton.disabled = FINISHED.has(job.status);
  }

  showFacts(job) {
    const rows = [
      ["Engine", `${job.renderer} ${job.engine_version || ""}`],
      ["Input", job.input_file],
      ["Frames", framesText(job)],
      ["Split", job.enable_split_jobs ? "across the farm" : "no"],
      ["Arguments", Object.entries(job.args || {}).map(([k, v]) => `${k}=${v}`).join(", ") || "–"],
      ["Created", when(job.created_at)],
      ["Elapsed", duration(elapsedSeconds(job))],
      ["Remaining", FINISHED.has(job.status) ? "–" : duration(remainingSeconds(job))],
    ];
    if (job.facts?.resolution) rows.splice(3, 0, ["Resolution", resolutionText(job.facts)]);
    if (job.facts?.width) rows.splice(3, 0, ["Size", `${job.facts.width} × ${job.facts.height}`]);
    if (job.error) rows.push(["Error", job.error]);
    this.facts.replaceChildren(...rows.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
  }

  showGrid(job, files) {
    const frames = job.frames || range(job.start_frame, job.end_frame, job.frame_step);
    const done = new Map();
    for (const name of files) {
      const match = FRAME_NUMBER.exec(name);
      if (match) done.set(Number(match[1]), name);
    }
    const owner = new Map();
    for (const child of job.children || []) {
      const label = childName(child, server.hostname);
      for (const frame of child.frames || range(child.start_frame, child.end_frame, job.frame_step)) {
        owner.set(frame, label);
      }
    }
    // An encode leaves one file, not one per frame: fill by progress instead.
    const byProgress = job.renderer !== "blender" || (job.status === "completed" && done.size === 0);
    const filled = Math.round((job.progress || 0) * frames.length);
    const cells = frames.map((frame, index) => {
      const finished = byProgress ? index < filled : done.has(frame);
      const where = owner.get(frame) || server.hostname;
      const file = byProgress ? null : done.get(frame);
      const title = `frame ${frame} · ${where}${file ? " · click to see it" : ""}`;
      const onclick = file ? () => this.showFrame(file) : null;
      return h(`span.frame${finished ? ".done" : ""}`, { title, onclick }, String(frame));
    });
    this.grid.replaceChildren(...cells);
    const count = byProgress ? filled : frames.filter((f) => done.has(f)).length;
    this.gridNote.textContent = `${count} of ${frames.length} frames done.`;
    this.grid.dataset.done = String(count);
  }

  showChildren(job) {
    const children = job.children || [];
    if (!children.length) {
      this.children.replaceChildren(h("p", {}, `Not split: this server, ${server.hostname}, renders it.`));
      return;
    }
    this.children.replaceChildren(
      h(
        "table.plain",
        {},
        h("tr", {}, h("th", {}, "Server"), h("th", {}, "Frames"), h("th", {}, "Status"), h("th", {}, "Progress")),
        ...children.map((c) =>
          h(
            "tr",
            {},
            h(
              "td",
              {},
              childName(c, server.hostname),
              h("span.muted", {}, ` ${hostOf(c.server)}${c.lost ? " (lost)" : ""}`),
            ),
            h("td", {}, c.frames ? `${c.frames.length} frames` : `${c.start_frame}–${c.end_frame}`),
            h("td", {}, statusBadge(c.status)),
            h("td", {}, progressBar(c.progress, c.status)),
          ),
        ),
      ),
    );
  }

  showFiles(files) {
    if (!files.length) {
      this.files.replaceChildren(h("li.muted", {}, "No files yet."));
      return;
    }
    this.files.replaceChildren(
      ...files.map((name) =>
        h(
          "li",
          {},
          h(
            "a",
            {
              href: "#",
              dataset: { file: name },
              onclick: (event) => {
                event.preventDefault();
                this.save(`/api/jobs/${this.id}/download?filename=${encodeURIComponent(name)}`, name);
              },
            },
            name,
          ),
        ),
      ),
    );
  }

  showLog(text) {
    const lines = text.split("\n");
    const tail = lines.slice(-LOG_LINES).join("\n");
    if (this.log.textContent === tail) return;
    const follow = this.log.scrollTop + this.log.clientHeight >= this.log.scrollHeight - 20;
    this.log.textContent = tail || "(empty)";
    if (follow) this.log.scrollTop = this.log.scrollHeight;
  }

  async showPreview(job, files) {
    const key = `${files.length}-${job.status}-${job.frames_done}`;
    if (!files.length || key === this.previewKey) return;
    this.previewKey = key;
    try {
      const url = await blobUrl(`/api/jobs/${this.id}/thumbnail?size=big`);
      if (this.previewUrl) URL.revokeObjectURL(this.previewUrl);
      this.previewUrl = url;
      this.preview.replaceChildren(h("img", { src: url, alt: "the newest frame" }));
    } catch {
      // No preview of this output (an EXR, say): keep the last one.
    }
  }

  // One finished frame in the preview, until the next one arrives.
  async showFrame(name) {
    try {
      const url = await blobUrl(`/api/jobs/${this.id}/download?filename=${encodeURIComponent(name)}`);
      if (this.previewUrl) URL.revokeObjectURL(this.previewUrl);
      this.previewUrl = url;
      this.preview.replaceChildren(h("img", { src: url, alt: name }), h("p.muted", {}, name));
    } catch (error) {
      toast(`Cannot show ${name}: ${error.message}`, "error");
    }
  }

  async save(path, name) {
    try {
      await download(path, name);
    } catch (error) {
      toast(`Download failed: ${error.message}`, "error");
    }
  }

  downloadAll() {
    this.save(`/api/jobs/${this.id}/download_all`);
  }

  async cancel() {
    if (!(await confirmAction("Cancel this job?", "Its engine processes are stopped.", "Cancel job"))) return;
    try {
      await postJson(`/api/jobs/${this.id}/cancel?confirm=true`);
      toast("Cancelled.");
    } catch (error) {
      toast(`Cancel failed: ${error.message}`, "error");
    }
  }

  async delete() {
    if (!(await confirmAction("Delete this job?", "It is stopped, and its files are removed.", "Delete"))) return;
    try {
      await postJson(`/api/jobs/${this.id}/delete?confirm=true`);
      toast("Deleted.");
      location.hash = "#/jobs";
    } catch (error) {
      toast(`Delete failed: ${error.message}`, "error");
    }
  }

  async renderAgain() {
    try {
      const job = await postJson(`/api/jobs/${this.id}/render_again`);
      toast(`Queued again as ${job.id}.`);
      location.hash = `#/jobs/${job.id}`;
    } catch (error) {
      toast(`Could not queue it again: ${error.message}`, "error");
    }
  }
}

function range(start, end, step = 1) {
  const frames = [];
  for (let f = start; f <= end; f += step || 1) frames.push(f);
  return frames;
}

function framesText(job) {
  if (job.frames) return `${job.frames.length} listed frames`;
  const step = job.frame_step > 1 ? ` every ${job.frame_step}` : "";
  return `${job.start_frame}–${job.end_frame}${step} (${job.total_frames})`;
}

function resolutionText(facts) {
  const [w, hgt] = facts.resolution;
  const percent = facts.resolution_percentage || 100;
  return `${w} × ${hgt}${percent !== 100 ? ` at ${percent}%` : ""}`;
}
