// Engines: the versions installed here and on the peers, downloading a
// version with its progress, and deleting a downloaded one.

import { getJson, getJsonIfThere, postJson, query } from "./api.js";
import { confirmAction, h, hostOf, toast } from "./util.js";

const PROGRESS_MS = 1000;
const AWAIT_DOWNLOAD_MS = 10 * 60 * 1000;

export function mount(view) {
  const page = new EnginesPage(view);
  return () => page.stop();
}

class EnginesPage {
  constructor(view) {
    this.here = h("div", { id: "engines-here" });
    this.peers = h("div", { id: "engines-peers" });
    this.downloadForm = this.buildDownload();
    view.append(
      h("div.page-head", {}, h("h1", {}, "Engines")),
      h("section.card", {}, h("h2", {}, "On this server"), this.here),
      h("section.card", {}, h("h2", {}, "Download a version"), this.downloadForm),
      h("section.card", {}, h("h2", {}, "On the other servers"), this.peers),
    );
    this.load();
    this.loadPeers();
  }

  stop() {
    clearTimeout(this.timer);
  }

  async load() {
    clearTimeout(this.timer);
    let engines;
    try {
      engines = await getJson("/api/engines?response_type=full");
    } catch (error) {
      this.here.replaceChildren(h("p.notice", {}, `Cannot list engines: ${error.message}`));
      return;
    }
    const versions = Object.entries(engines).flatMap(([name, data]) => versionRows(name, data));
    this.here.replaceChildren(this.table(versions));
    this.engineChoice.replaceChildren(...Object.keys(engines).map((n) => h("option", { value: n }, n)));
    // While a download runs, or has not shown up yet, its progress is read
    // again every second.
    if (versions.some((v) => v.downloading) || this.stillAwaited(versions)) {
      this.timer = setTimeout(() => this.load(), PROGRESS_MS);
    } else if (this.awaited) {
      const wanted = this.awaited;
      const failed = versions.find((v) => v.name === wanted.engine && v.failed && String(v.version).startsWith(wanted.version));
      this.awaited = null;
      this.downloadNote.textContent = failed ? `Not downloaded: ${failed.failed}` : "Downloaded.";
    }
  }

  stillAwaited(versions) {
    const wanted = this.awaited;
    if (!wanted || Date.now() > wanted.until) return false;
    const failed = versions.some((v) => v.name === wanted.engine && v.failed);
    const there = versions.some(
      (v) => v.name === wanted.engine && v.managed && !v.downloading && String(v.version).startsWith(wanted.version),
    );
    return !failed && !there;
  }

  table(versions, here = true) {
    if (!versions.length) return h("p.muted", {}, "No engine is installed on this server.");
    return h(
      "div.table-wrap",
      {},
      h(
        "table.plain",
        {},
        h("tr", {}, h("th", {}, "Engine"), h("th", {}, "Version"), h("th", {}, "Where"), h("th", {}, "")),
        ...versions.map((v) =>
          h(
            "tr",
            { dataset: { engine: v.name, version: v.version || "" } },
            h("td", {}, v.name),
            h("td", {}, v.version || "unknown"),
            h("td.path", {}, v.downloading ? downloadBar(v) : v.failed ? `download failed: ${v.failed}` : v.path || "–"),
            h("td", {}, this.versionAction(v, here)),
          ),
        ),
      ),
    );
  }

  versionAction(v, here) {
    if (!v.managed) return h("span.muted", {}, "system");
    if (v.downloading) return h("span.muted", {}, "downloading");
    if (!here || v.failed) return h("span.muted", {}, v.failed ? "" : "downloaded");
    return h("button.danger", { onclick: () => this.remove(v) }, "Delete");
  }

  buildDownload() {
    this.engineChoice = h("select", { id: "download-engine" });
    this.versionInput = h("input", { id: "download-version", placeholder: "version, e.g. 4.2.1" });
    this.downloadNote = h("p.muted", {}, "");
    return h(
      "form.inline",
      { onsubmit: (event) => this.download(event) },
      this.engineChoice,
      this.versionInput,
      h("button", { id: "download-newest", type: "button", onclick: () => this.newest() }, "Newest"),
      h("button.primary", { id: "download-start", type: "submit" }, "Download"),
      this.downloadNote,
    );
  }

  async newest() {
    const engine = this.engineChoice.value;
    try {
      const found = await getJsonIfThere(`/api/engines/most_recent_version?${query({ engine })}`);
      if (!found) {
        this.downloadNote.textContent = "The release index lists no build for this server.";
        return;
      }
      this.versionInput.value = found.version || found;
    } catch (error) {
      this.downloadNote.textContent = error.message;
    }
  }

  async download(event) {
    event.preventDefault();
    const wanted = { engine: this.engineChoice.value, version: this.versionInput.value.trim() };
    const params = query(wanted);
    try {
      await postJson(`/api/engines/download?${params}`);
      this.awaited = { ...wanted, until: Date.now() + AWAIT_DOWNLOAD_MS };
      this.downloadNote.textContent = "Downloading…";
      this.load();
    } catch (error) {
      this.downloadNote.textContent = `Not downloaded: ${error.message}`;
    }
  }

  async remove(v) {
    if (!(await confirmAction(`Delete ${v.name} ${v.version}?`, "The downloaded files are removed from this server.", "Delete"))) return;
    try {
      await postJson("/api/engines/delete", { engine: v.name, version: v.version });
      toast(`Deleted ${v.name} ${v.version}.`);
    } catch (error) {
      toast(`Not deleted: ${error.message}`, "error");
    }
    this.load();
  }

  // This server asks its peers for their engines: the page cannot, as the
  // peers are other addresses.
  async loadPeers() {
    const farm = await getJsonIfThere("/api/engines/farm").catch(() => null);
    const servers = farm?.servers || [];
    if (!servers.length) {
      this.peers.replaceChildren(h("p.muted", {}, "This server knows no other server."));
      return;
    }
    this.peers.replaceChildren(...servers.map((s) => this.peer(s)));
  }

  peer(s) {
    const name = s.hostname ? `${s.hostname} (${hostOf(s.url)})` : hostOf(s.url);
    const head = h(
      "div.card-head",
      {},
      h("h3", {}, name),
      h(`span.badge.${s.reachable ? "s-completed" : "s-error"}`, {}, s.reachable ? "reachable" : "not reachable"),
    );
    if (!s.engines) {
      return h("div.peer", { dataset: { url: s.url } }, head, h("p.muted", {}, s.error || "No answer."));
    }
    const versions = Object.entries(s.engines).flatMap(([n, d]) => versionRows(n, d));
    return h("div.peer", { dataset: { url: s.url } }, head, this.table(versions, false));
  }
}

// One row per installed version, plus one per download under way or failed.
function versionRows(name, data) {
  const installed = (data.versions || []).map((v) => ({ name, ...v }));
  const fetching = (data.downloads || [])
    .filter((d) => d.status !== "done")
    .map((d) => ({
      name,
      version: d.version,
      managed: true,
      downloading: d.status !== "error",
      failed: d.status === "error" ? d.error : "",
      progress: d.progress,
    }));
  return [...installed, ...fetching];
}

function downloadBar(v) {
  const fraction = v.progress ?? v.download_progress ?? 0;
  const percent = Math.round(fraction * 100);
  return h("div.progress.s-running", {}, h("span", { style: `width:${percent}%` }), h("em", {}, `downloading ${percent}%`));
}
