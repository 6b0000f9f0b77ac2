// The farm: every server with its load, jobs and whether it answers, and
// CPU benchmark scores. Uses /api/full_status; on a server without it, this
// server's /api/status and the peers it knows.

import { getJson, getJsonIfThere, getText } from "./api.js";
import { bytes, h, hostOf, toast } from "./util.js";

const REFRESH_MS = 5000;

export function mount(view) {
  const page = new FarmPage(view);
  return () => page.stop();
}

class FarmPage {
  constructor(view) {
    this.scores = JSON.parse(sessionStorage.getItem("zordon.scores") || "{}");
    this.list = h("div.servers", { id: "servers" });
    this.source = h("p.muted");
    this.benchButton = h("button", { id: "run-benchmark", onclick: () => this.benchmark() }, "Run a CPU benchmark here");
    view.append(h("div.page-head", {}, h("h1", {}, "Farm"), h("div.actions", {}, this.benchButton)), this.source, this.list);
    this.load();
    // Load and reachability change on their own, with no job event to wake
    // a long-poll: this page alone asks again every few seconds.
    this.timer = setInterval(() => this.load(), REFRESH_MS);
  }

  stop() {
    clearInterval(this.timer);
  }

  async load() {
    try {
      const full = await getJsonIfThere("/api/full_status");
      const servers = full ? fromFullStatus(full) : await this.fallback();
      this.source.textContent = full
        ? "From /api/full_status."
        : "This server has no /api/full_status yet: showing its own status and the peers it knows.";
      this.show(servers);
    } catch (error) {
      this.source.textContent = `Cannot reach the server: ${error.message}`;
    }
  }

  async fallback() {
    const [status, peers] = await Promise.all([
      getJson("/api/status"),
      getJsonIfThere("/api/_debug/detected_clients").then((p) => p || []),
    ]);
    const self = { ...status, url: status.url || location.origin, reachable: true, self: true };
    const others = peers.map((p) => ({
      hostname: p.hostname || hostOf(p.url),
      url: p.url,
      reachable: Boolean(p.up),
      last_seen: p.last_seen,
    }));
    return [self, ...others];
  }

  show(servers) {
    this.list.replaceChildren(...servers.map((s) => this.card(s)));
    document.body.dataset.servers = String(servers.length);
  }

  card(s) {
    const score = s.cpu_score ?? (s.self ? this.scores.self : undefined);
    const jobs = s.job_counts || {};
    const running = (jobs.running || 0) + (jobs.scheduled || 0) + (jobs.waiting_for_subjobs || 0);
    const queued = jobs.not_started || 0;
    const rows = [
      ["Address", s.url ? hostOf(s.url) : "–"],
      ["CPU", s.cpu_count ? `${s.cpu_count} cores${s.cpu_brand ? ` · ${s.cpu_brand}` : ""}` : "–"],
      ["Load", s.cpu_percent !== undefined ? `${Math.round(s.cpu_percent)}% CPU` : "–"],
      ["Memory", s.memory_percent !== undefined ? `${Math.round(s.memory_percent)}% of ${bytes(s.memory_total)}` : "–"],
      ["Jobs", s.job_counts ? `${running} running · ${queued} queued · ${jobs.completed || 0} done` : "–"],
      ["CPU score", score !== undefined && score !== null ? String(score) : "not measured"],
    ];
    if (!s.reachable) {
      const silent = s.silent_s ? `silent for ${Math.round(s.silent_s)} s` : "no answer";
      rows.push(["Why", s.error ? `${silent}: ${s.error}` : silent]);
    }
    return h(
      `section.card.server${s.reachable ? "" : ".down"}`,
      { dataset: { url: s.url || "" } },
      h(
        "div.card-head",
        {},
        h("h2", {}, s.hostname || hostOf(s.url)),
        h(`span.badge.${s.reachable ? "s-completed" : "s-error"}`, {}, s.reachable ? "reachable" : "not reachable"),
      ),
      s.self ? h("p.muted", {}, "this server") : null,
      h("dl.facts", {}, ...rows.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
      s.cpu_percent !== undefined ? h("div.meter", {}, h("span", { style: `width:${Math.min(100, s.cpu_percent)}%` })) : null,
    );
  }

  async benchmark() {
    this.benchButton.disabled = true;
    this.benchButton.textContent = "Benchmarking (about 10 s)…";
    try {
      const score = (await getText("/api/cpu_benchmark")).trim();
      this.scores.self = score;
      sessionStorage.setItem("zordon.scores", JSON.stringify(this.scores));
      toast(`CPU score of this server: ${score}`);
      this.load();
    } catch (error) {
      const why = error.status === 404 ? "this server cannot run benchmarks yet" : error.message;
      toast(`No benchmark: ${why}`, "error");
    } finally {
      this.benchButton.disabled = false;
      this.benchButton.textContent = "Run a CPU benchmark here";
    }
  }
}

// full_status as a list of servers, whether it holds a list or a mapping.
function fromFullStatus(full) {
  const source = full.servers ?? full;
  const entries = Array.isArray(source) ? source.map((s) => [s.url || s.hostname, s]) : Object.entries(source);
  return entries
    .filter(([, s]) => s && typeof s === "object")
    .map(([key, s]) => {
      const status = s.status && typeof s.status === "object" ? { ...s.status, ...s } : s;
      return {
        ...status,
        url: status.url || (key.startsWith("http") ? key : undefined),
        hostname: status.hostname || key,
        reachable: status.reachable ?? status.up ?? true,
        self: Boolean(status.self || status.is_self || status.local),
      };
    });
}
