// The job list: one page of jobs at a time, kept live by the long-poll,
// with a status filter, selection, and cancel or delete of the selection.

import { blobUrl, postJson } from "./api.js";
import { server } from "./app.js";
import { JobWatch } from "./live.js";
import {
  FINISHED,
  STATUS_LABELS,
  confirmAction,
  duration,
  eachLimited,
  elapsedSeconds,
  h,
  machines,
  progressBar,
  remainingSeconds,
  serverNow,
  statusBadge,
  toast,
} from "./util.js";

const PAGE_SIZE = 50;
const THUMB_LANES = 4;
const TICK_MS = 1000;

export function mount(view) {
  const page = new JobListPage(view);
  return () => page.stop();
}

class JobListPage {
  constructor(view) {
    this.status = sessionStorage.getItem("zordon.jobs.status") || "";
    this.offset = 0;
    this.selected = new Set();
    this.rows = new Map();
    this.jobs = [];
    this.thumbs = new Map();
    this.build(view);
    this.watch = new JobWatch(this.params(), (list) => this.show(list), (e) => this.offline(e));
    this.watch.start();
    this.ticker = setInterval(() => this.tick(), TICK_MS);
    // The server's name arrives after the first rows: name the machines again.
    this.onHost = () => this.rows.forEach((row) => this.fillRow(row, row.job));
    window.addEventListener("zordon:host", this.onHost);
  }

  stop() {
    this.watch.stop();
    window.removeEventListener("zordon:host", this.onHost);
    clearInterval(this.ticker);
    for (const { url } of this.thumbs.values()) if (url) URL.revokeObjectURL(url);
  }

  params() {
    return {
      status: this.status,
      offset: this.offset,
      limit: PAGE_SIZE,
      order: "newest",
      fields: "summary",
    };
  }

  refollow() {
    sessionStorage.setItem("zordon.jobs.status", this.status);
    this.watch.follow(this.params());
  }

  build(view) {
    this.filters = h("div.filters", { role: "tablist" });
    this.actions = h(
      "div.actions",
      {},
      (this.selectionLabel = h("span.muted", {}, "")),
      (this.cancelButton = h("button", { onclick: () => this.act("cancel") }, "Cancel selected")),
      (this.deleteButton = h("button.danger", { onclick: () => this.act("delete") }, "Delete selected")),
    );
    this.allBox = h("input", { type: "checkbox", title: "Select this page", onchange: () => this.selectPage() });
    this.body = h("tbody");
    this.pager = h("div.pager");
    this.notice = h("p.notice", { hidden: true });
    view.append(
      h("div.page-head", {}, h("h1", {}, "Jobs"), this.actions),
      this.filters,
      this.notice,
      h(
        "div.table-wrap",
        {},
        h(
          "table.jobs",
          {},
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              h("th.check", {}, this.allBox),
              h("th.thumb", {}, ""),
              h("th", {}, "Name"),
              h("th.col-engine", {}, "Engine"),
              h("th", {}, "Status"),
              h("th.col-progress", {}, "Progress"),
              h("th.col-machines", {}, "Machines"),
              h("th.col-time", {}, "Elapsed"),
              h("th.col-time", {}, "Remaining"),
            ),
          ),
          this.body,
        ),
      ),
      this.pager,
    );
    this.updateActions();
  }

  show(list) {
    this.notice.hidden = true;
    this.total = list.total;
    this.counts = list.counts || {};
    this.jobs = list.jobs;
    if (list.jobs.length === 0 && this.offset > 0 && list.total > 0) {
      this.offset = Math.max(0, Math.floor((list.total - 1) / PAGE_SIZE) * PAGE_SIZE);
      this.refollow();
      return;
    }
    this.showFilters();
    this.showRows(list.jobs);
    this.showPager();
    this.updateActions();
    if (!document.body.dataset.jobsShown) performance.mark("zordon:jobs-shown");
    document.body.dataset.jobsShown = String(list.jobs.length);
    this.loadThumbnails(list.jobs);
  }

  offline(error) {
    this.notice.hidden = false;
    this.notice.textContent = `Cannot reach the server (${error.message}); trying again…`;
  }

  showFilters() {
    const all = Object.values(this.counts).reduce((a, b) => a + b, 0);
    const chips = [["", "all", all]];
    for (const [status, label] of Object.entries(STATUS_LABELS)) {
      if (this.counts[status] || this.status === status) {
        chips.push([status, label, this.counts[status] || 0]);
      }
    }
    this.filters.replaceChildren(
      ...chips.map(([status, label, count]) =>
        h(
          `button.chip${status === this.status ? ".on" : ""}`,
          {
            dataset: { status: status || "all" },
            onclick: () => {
              this.status = status;
              this.offset = 0;
              this.refollow();
            },
          },
          `${label} `,
          h("b", {}, count.toLocaleString()),
        ),
      ),
    );
  }

  showRows(jobs) {
    const keep = new Set(jobs.map((j) => j.id));
    for (const [id, row] of this.rows) {
      if (!keep.has(id)) {
        row.el.remove();
        this.rows.delete(id);
      }
    }
    if (!jobs.length) {
      this.body.replaceChildren(h("tr.empty", {}, h("td", { colSpan: 9 }, this.emptyText())));
      return;
    }
    this.body.querySelector("tr.empty")?.remove();
    jobs.forEach((job, index) => {
      let row = this.rows.get(job.id);
      if (!row) {
        row = this.makeRow(job);
        this.rows.set(job.id, row);
      }
      this.fillRow(row, job);
      if (this.body.children[index] !== row.el) this.body.insertBefore(row.el, this.body.children[index] || null);
    });
  }

  emptyText() {
    return this.status ? `No ${STATUS_LABELS[this.status]} jobs.` : "No jobs yet. Drop a file on the Submit page to start one.";
  }

  makeRow(job) {
    const check = h("input", {
      type: "checkbox",
      title: "Select",
      onchange: () => {
        check.checked ? this.selected.add(job.id) : this.selected.delete(job.id);
        this.updateActions();
      },
    });
    const cells = {
      check,
      thumb: h("div.thumb-box"),
      name: h("a", { href: `#/jobs/${job.id}` }),
      sub: h("div.sub"),
      engine: h("td.col-engine"),
      status: h("td.col-status"),
      progress: h("td.col-progress"),
      machines: h("td.col-machines"),
      elapsed: h("td.col-time"),
      remaining: h("td.col-time"),
    };
    const known = this.thumbs.get(job.id)?.url;
    if (known) cells.thumb.append(thumbImage(known, job.name));
    const el = h(
      "tr",
      { dataset: { id: job.id } },
      h("td.check", {}, check),
      h("td.thumb", {}, cells.thumb),
      h("td.name", {}, cells.name, cells.sub),
      cells.engine,
      cells.status,
      cells.progress,
      cells.machines,
      cells.elapsed,
      cells.remaining,
    );
    return { el, cells, job };
  }

  fillRow(row, job) {
    const c = row.cells;
    row.job = job;
    row.el.dataset.status = job.status;
    c.check.checked = this.selected.has(job.id);
    c.name.textContent = job.name;
    c.sub.textContent = `${job.input_file} · ${job.frames_done}/${job.total_frames} frames`;
    c.sub.title = job.error || "";
    if (job.error) c.sub.textContent += ` · ${job.error}`;
    c.engine.textContent = job.engine_version ? `${job.renderer} ${job.engine_version}` : job.renderer;
    c.status.replaceChildren(statusBadge(job.status));
    c.progress.replaceChildren(progressBar(job.progress, job.status));
    c.machines.textContent = [...new Set(machines(job, server.hostname))].join(", ") || "–";
    this.fillTimes(row);
  }

  fillTimes(row) {
    const now = serverNow();
    row.cells.elapsed.textContent = duration(elapsedSeconds(row.job, now));
    const left = remainingSeconds(row.job, now);
    row.cells.remaining.textContent = FINISHED.has(row.job.status) ? "–" : duration(left);
  }

  // The clock moves on between changes: redraw the times of running jobs.
  tick() {
    for (const row of this.rows.values()) {
      if (row.job.started_at && !row.job.finished_at) this.fillTimes(row);
    }
  }

  showPager() {
    const from = this.total ? this.offset + 1 : 0;
    const to = Math.min(this.offset + PAGE_SIZE, this.total);
    const go = (offset) => () => {
      this.offset = offset;
      this.refollow();
    };
    const last = Math.max(0, Math.floor((this.total - 1) / PAGE_SIZE) * PAGE_SIZE);
    this.pager.replaceChildren(
      h("button", { onclick: go(0), disabled: this.offset === 0, title: "Newest" }, "«"),
      h("button", { onclick: go(Math.max(0, this.offset - PAGE_SIZE)), disabled: this.offset === 0 }, "‹ Newer"),
      h("span.range", {}, `${from.toLocaleString()}–${to.toLocaleString()} of ${this.total.toLocaleString()}`),
      h("button", { onclick: go(this.offset + PAGE_SIZE), disabled: to >= this.total }, "Older ›"),
      h("button", { onclick: go(last), disabled: to >= this.total, title: "Oldest" }, "»"),
    );
  }

  selectPage() {
    for (const job of this.jobs) {
      this.allBox.checked ? this.selected.add(job.id) : this.selected.delete(job.id);
    }
    for (const row of this.rows.values()) row.cells.check.checked = this.selected.has(row.job.id);
    this.updateActions();
  }

  updateActions() {
    const n = this.selected.size;
    this.selectionLabel.textContent = n ? `${n} selected` : "";
    this.cancelButton.disabled = n === 0;
    this.deleteButton.disabled = n === 0;
    this.allBox.checked = this.jobs.length > 0 && this.jobs.every((j) => this.selected.has(j.id));
  }

  async act(action) {
    const ids = [...this.selected];
    const what = ids.length === 1 ? "1 job" : `${ids.length} jobs`;
    const text =
      action === "delete"
        ? `Delete ${what}? Running ones are stopped first, and their files are removed.`
        : `Cancel ${what}? Their engines are stopped; finished jobs stay as they are.`;
    const label = action === "delete" ? "Delete" : "Cancel jobs";
    if (!(await confirmAction(`${label}?`, text, label))) return;
    let failed = 0;
    await eachLimited(ids, 4, async (id) => {
      try {
        await postJson(`/api/jobs/${id}/${action}?confirm=true`);
        this.selected.delete(id);
      } catch (error) {
        failed++;
        toast(`${id}: ${error.message}`, "error");
      }
    });
    this.updateActions();
    const done = ids.length - failed;
    toast(`${action === "delete" ? "Deleted" : "Cancelled"} ${done} of ${ids.length}.`, failed ? "error" : "info");
  }

  // Thumbnails go through fetch so that the farm token goes with them.
  async loadThumbnails(jobs) {
    const wanted = jobs.filter((job) => {
      const key = `${job.frames_done}-${job.status}`;
      return (job.frames_done > 0 || job.status === "completed") && this.thumbs.get(job.id)?.key !== key;
    });
    await eachLimited(wanted, THUMB_LANES, async (job) => {
      const key = `${job.frames_done}-${job.status}`;
      let url = null;
      try {
        url = await blobUrl(`/api/jobs/${job.id}/thumbnail`);
      } catch {
        // No preview (yet): not asked again until the job moves on.
      }
      const old = this.thumbs.get(job.id);
      if (!url) {
        this.thumbs.set(job.id, { key, url: old?.url ?? null });
        return;
      }
      if (old?.url) URL.revokeObjectURL(old.url);
      this.thumbs.set(job.id, { key, url });
      const row = this.rows.get(job.id);
      if (row) showThumb(row, url);
    });
  }
}

function thumbImage(url, name) {
  return h("img", { src: url, alt: `preview of ${name}` });
}

function showThumb(row, url) {
  row.cells.thumb.replaceChildren(thumbImage(url, row.job.name));
}
