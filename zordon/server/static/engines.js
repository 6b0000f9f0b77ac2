// Engines: the versions installed here and on the peers, downloading a
// version with its progress, and deleting a downloaded one.

import { getJson, getJsonIfThere, postJson, query } from "./api.js";
import { confirmAction, h, hostOf, toast } from "./util.js";

const PROGRESS_MS = 1000;

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
    // While a download runs, its progress is read again every second.
    if (versions.some((v) => v.downloading)) this.timer = setTimeout(() => this.load(), PROGRESS_MS);
  }

  table(versions) {
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
            h("td.path", {}, v.downloading ? downloadBar(v) : v.path || "–"),
            h("td", {}, v.managed && !v.downloading ? h("button.danger", { onclick: () => this.remove(v) }, "Delete") : v.managed ? "" : h("span.muted", {}, "system")),
          ),
        ),
      ),
    );
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
      h("button", { type: "button", onclick: () => this.newest() }, "Newest"),
      h("button.primary", { type: "submit" }, "Download"),
      this.downloadNote,
    );
  }

  async newest() {
    const engine = this.engineChoice.value;
    try {
      const found = await getJsonIfThere(`/api/engines/most_recent_version?${query({ engine })}`);
      if (!found) {
        this.downloadNote.textContent = "This server cannot download engines yet.";
        return;
      }
      this.versionInput.value = found.version || found;
    } catch (error) {
      this.downloadNote.textContent = error.message;
    }
  }

  async download(event) {
    event.preventDefault();
    const params = query({ engine: this.engineChoice.value, version: this.versionInput.value.trim() });
    try {
      await postJson(`/api/engines/download?${params}`);
      this.downloadNote.textContent = "Downloading…";
      this.load();
    } catch (error) {
      this.downloadNote.textContent =
        error.status === 404 || error.status === 405 ? "This server cannot download engines yet." : `Not downloaded: ${error.message}`;
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

  async loadPeers() {
    const full = await getJsonIfThere("/api/full_status").catch(() => null);
    const peers = full ? peersOf(full) : await getJsonIfThere("/api/_debug/detected_clients").catch(() => null);
    if (!peers?.length) {
      this.peers.replaceChildren(h("p.muted", {}, "This server knows no other server."));
      return;
    }
    this.peers.replaceChildren(
      h(
        "ul.peers",
        {},
        ...peers.map((p) => {
          const engines = p.engines ? Object.entries(p.engines).map(([n, d]) => `${n} ${d.version || ""}`).join(", ") : null;
          return h(
            "li",
            {},
            h("strong", {}, p.hostname || hostOf(p.url)),
            " ",
            h("span.muted", {}, engines || (p.up || p.reachable ? "answers" : "not reachable")),
            " ",
            p.url ? h("a", { href: `${p.url}/#/engines`, target: "_blank", rel: "noopener" }, "open its dashboard") : null,
          );
        }),
      ),
    );
  }
}

// One row per version: from a list of versions if the server gives one.
function versionRows(name, data) {
  const list = data.versions || data.installed;
  if (Array.isArray(list) && list.length) {
    return list.map((v) => ({ name, ...(typeof v === "object" ? v : { version: v }) }));
  }
  return [{ name, version: data.version, path: data.path, managed: data.managed, downloading: data.downloading }];
}

function downloadBar(v) {
  const fraction = v.progress ?? v.download_progress ?? 0;
  const percent = Math.round(fraction * 100);
  return h("div.progress.s-running", {}, h("span", { style: `width:${percent}%` }), h("em", {}, `downloading ${percent}%`));
}

function peersOf(full) {
  const source = full.servers ?? full;
  const list = Array.isArray(source) ? source : Object.entries(source).map(([url, s]) => ({ url, ...s }));
  return list.filter((s) => s && typeof s === "object" && !(s.self || s.is_self || s.local));
}

