// Submit a job: drop a file, which uploads at once to /api/cache while the
// form fills itself in from what the server reads in the file.

import { getJson, getJsonIfThere, getText, postJson, query, upload } from "./api.js";
import { h, toast } from "./util.js";

let current = null;
let offered = null;

export function mount(view) {
  const page = new SubmitPage(view);
  current = page;
  if (offered) page.take(offered);
  offered = null;
  return () => {
    page.stop();
    current = null;
  };
}

// A file dropped on any page: taken now, or when this page opens.
export function offer(file) {
  if (current) current.take(file);
  else offered = file;
}

class SubmitPage {
  constructor(view) {
    this.file = null;
    this.digest = null;
    this.facts = null;
    this.presets = {};
    this.build(view);
    this.enginesLoaded = this.loadEngines();
    this.loadPresets();
  }

  stop() {
    this.stopped = true;
  }

  build(view) {
    this.picker = h("input", { type: "file", id: "file-input", hidden: true, onchange: () => this.take(this.picker.files[0]) });
    this.drop = h(
      "label.dropzone",
      { htmlFor: "file-input", id: "dropzone", tabIndex: 0 },
      h("strong", {}, "Drop a .blend or a video here"),
      h("span.muted", {}, "or click to choose one"),
    );
    for (const type of ["dragenter", "dragover"]) {
      this.drop.addEventListener(type, (event) => {
        event.preventDefault();
        this.drop.classList.add("over");
      });
    }
    this.drop.addEventListener("dragleave", () => this.drop.classList.remove("over"));
    this.drop.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        this.picker.click();
      }
    });
    // The drop itself is caught by the page (app.js), wherever it lands.
    this.drop.addEventListener("drop", () => this.drop.classList.remove("over"));
    this.uploadBar = h("div.progress.upload", { hidden: true }, h("span"), h("em"));
    this.fileNote = h("p.muted", { id: "file-note" });

    this.name = h("input", { id: "job-name", placeholder: "named after the file" });
    this.engine = h("select", { id: "engine", onchange: () => this.engineChanged() });
    this.start = h("input", { id: "start-frame", type: "number", min: 0 });
    this.end = h("input", { id: "end-frame", type: "number", min: 0 });
    this.resolution = h("div.resolution", { id: "resolution" }, h("span.muted", {}, "read from the file"));
    this.preset = h("select", { id: "preset", onchange: () => this.applyPreset() });
    this.split = h("input", { type: "checkbox", id: "split" });
    this.args = h("textarea", { id: "args", rows: 4, placeholder: "one key=value per line" });
    this.accepted = h("div.accepted");
    this.help = h("pre.help", {}, "");
    this.helpBox = h("details", { ontoggle: () => this.loadHelp() }, h("summary", {}, "Engine help"), this.help);
    this.submitButton = h("button.primary", { id: "submit-job", type: "submit", disabled: true }, "Submit job");
    this.form = h(
      "form.submit-form",
      { onsubmit: (event) => this.send(event) },
      field("Name", this.name),
      field("Engine", this.engine),
      h("div.pair", {}, field("First frame", this.start), field("Last frame", this.end)),
      field("Resolution", this.resolution),
      field("Preset", this.preset),
      h("label.checkline", {}, this.split, " Split the frames over the farm"),
      field("Arguments", this.args, this.accepted),
      this.helpBox,
      h("div.actions", {}, this.submitButton),
    );
    view.append(
      h("div.page-head", {}, h("h1", {}, "Submit a job")),
      h("div.submit", {}, h("section.card", {}, this.picker, this.drop, this.uploadBar, this.fileNote), h("section.card", {}, this.form)),
    );
  }

  async loadEngines() {
    try {
      const names = await getJson("/api/engines/names");
      this.engine.replaceChildren(...names.map((n) => h("option", { value: n }, n)));
      this.engineChanged();
    } catch (error) {
      toast(`Cannot list engines: ${error.message}`, "error");
    }
  }

  async loadPresets() {
    const presets = await getJsonIfThere("/api/presets").catch(() => null);
    this.presets = normalisePresets(presets);
    this.showPresets();
  }

  // The presets of the chosen engine (and those for any engine).
  showPresets() {
    const engine = this.engine.value;
    const names = Object.keys(this.presets).filter((n) => !this.presets[n].engine || this.presets[n].engine === engine);
    this.preset.replaceChildren(
      h("option", { value: "" }, names.length ? "none" : "no presets for this engine"),
      ...names.map((n) => {
        const about = this.presets[n].description;
        return h("option", { value: n, title: about || "" }, about ? `${n}: ${about}` : n);
      }),
    );
    this.preset.disabled = !names.length;
  }

  applyPreset() {
    const preset = this.presets[this.preset.value];
    if (!preset) return;
    const lines = Object.entries(preset.args || {}).map(([k, v]) => `${k}=${v}`);
    this.args.value = lines.join("\n");
  }

  async engineChanged() {
    const name = this.engine.value;
    this.showPresets();
    this.help.textContent = "";
    this.helpLoaded = null;
    if (this.helpBox.open) this.loadHelp();
    const args = await getJsonIfThere(`/api/engines/${name}/args`).catch(() => null);
    this.accepted.replaceChildren(
      ...Object.entries(args || {}).map(([key, about]) =>
        h("button.chip", { type: "button", title: about, onclick: () => this.addArg(key) }, key),
      ),
    );
    if (this.digest) this.inspect();
  }

  addArg(key) {
    const text = this.args.value.trim();
    this.args.value = `${text ? `${text}\n` : ""}${key}=`;
    this.args.focus();
  }

  async loadHelp() {
    if (!this.helpBox.open || this.helpLoaded === this.engine.value) return;
    this.helpLoaded = this.engine.value;
    this.help.textContent = "Asking the engine…";
    try {
      this.help.textContent = await getText(`/api/engines/${this.engine.value}/help`);
    } catch (error) {
      this.help.textContent = `No help: ${error.message}`;
    }
  }

  async take(file) {
    if (!file) return;
    this.file = file;
    this.digest = null;
    this.submitButton.disabled = true;
    this.name.placeholder = file.name;
    this.drop.querySelector("strong").textContent = file.name;
    this.fileNote.textContent = "Uploading…";
    const engineChosen = this.chooseEngine(file.name);
    this.uploadBar.hidden = false;
    this.showUpload(0);
    try {
      const stored = await upload("/api/cache", file, (f) => this.showUpload(f));
      await engineChosen;
      if (this.file !== file) return;
      this.showUpload(1);
      this.fileNote.textContent = `${file.name} is on the server.`;
      // Set only now, so that the engine's choice above did not inspect too.
      this.digest = stored.sha256;
      await this.inspect();
    } catch (error) {
      this.fileNote.textContent = `Upload failed: ${error.message}`;
      return;
    }
    this.submitButton.disabled = false;
  }

  showUpload(fraction) {
    const percent = Math.round(fraction * 100);
    this.uploadBar.firstChild.style.width = `${percent}%`;
    this.uploadBar.lastChild.textContent = `upload ${percent}%`;
    this.uploadBar.dataset.percent = String(percent);
  }

  async chooseEngine(filename) {
    await this.enginesLoaded;
    try {
      const name = (await getText(`/api/engines/for_filename?${query({ filename })}`)).trim();
      if (name && name !== this.engine.value) {
        this.engine.value = name;
        this.engineChanged();
      }
    } catch (error) {
      toast(`No engine for ${filename}: ${error.message}`, "error");
    }
  }

  async inspect() {
    const params = query({ sha256: this.digest, filename: this.file.name, engine: this.engine.value });
    const asked = (this.inspections = (this.inspections || 0) + 1);
    let facts;
    try {
      facts = await getJson(`/api/engines/inspect?${params}`);
    } catch (error) {
      this.fileNote.textContent = `${this.file.name}: ${error.message}`;
      return;
    }
    if (asked !== this.inspections) return; // a newer file or engine won
    this.facts = facts;
    if (facts.start_frame !== null) this.start.value = facts.start_frame;
    if (facts.end_frame !== null) this.end.value = facts.end_frame;
    this.showResolution(facts);
    if (facts.facts?.error) this.fileNote.textContent = `The server could not read the file: ${facts.facts.error}`;
  }

  showResolution(facts) {
    const size = facts.resolution;
    if (!size) {
      this.resolution.replaceChildren(h("span.muted", {}, "not known"));
      return;
    }
    if (facts.engine === "blender") {
      this.percent = h("input", { id: "resolution-percentage", type: "number", min: 1, max: 1000, value: facts.facts.resolution_percentage || 100 });
      const [w, hgt] = facts.facts.resolution;
      this.resolution.replaceChildren(h("span", {}, `${w} × ${hgt} at `), this.percent, h("span", {}, " %"));
    } else {
      this.width = h("input", { id: "width", type: "number", min: 2, value: size[0] });
      this.height = h("input", { id: "height", type: "number", min: 2, value: size[1] });
      this.resolution.replaceChildren(this.width, h("span", {}, " × "), this.height);
    }
  }

  // The size the user asked for, as the engine's own argument.
  sizeArgs() {
    const facts = this.facts;
    if (!facts?.resolution) return {};
    if (facts.engine === "blender") {
      const percent = Number(this.percent.value);
      return percent && percent !== (facts.facts.resolution_percentage || 100) ? { resolution_percentage: percent } : {};
    }
    const [w, hgt] = [Number(this.width.value), Number(this.height.value)];
    return w !== facts.resolution[0] || hgt !== facts.resolution[1] ? { scale: `${w}x${hgt}` } : {};
  }

  async send(event) {
    event.preventDefault();
    let args;
    try {
      args = { ...this.sizeArgs(), ...parseArgs(this.args.value) };
    } catch (error) {
      toast(error.message, "error");
      return;
    }
    const spec = {
      name: this.name.value.trim() || this.file.name,
      renderer: this.engine.value,
      files: { [this.file.name]: this.digest },
      main_file: this.file.name,
      args,
      enable_split_jobs: this.split.checked,
    };
    if (this.start.value !== "") spec.start_frame = Number(this.start.value);
    if (this.end.value !== "") spec.end_frame = Number(this.end.value);
    this.submitButton.disabled = true;
    try {
      const job = await postJson("/api/add_job", spec);
      toast(`Submitted ${job.name}.`);
      location.hash = `#/jobs/${job.id}`;
    } catch (error) {
      toast(`Not submitted: ${error.message}`, "error");
      this.submitButton.disabled = false;
    }
  }
}

function field(label, input, ...more) {
  const id = input.id || input.querySelector("[id]")?.id;
  return h("div.field", {}, h("label.label", { htmlFor: id }, label), input, ...more);
}

function parseArgs(text) {
  const args = {};
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line) continue;
    const at = line.indexOf("=");
    if (at < 1) throw new Error(`"${line}" is not key=value`);
    args[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return args;
}

// Presets as {name: {engine, args}}, from a mapping or a list of them.
function normalisePresets(data) {
  const found = {};
  if (!data) return found;
  const source = data.presets || data;
  const entries = Array.isArray(source) ? source.map((p) => [p.name, p]) : Object.entries(source);
  for (const [name, preset] of entries) {
    if (!name || typeof preset !== "object" || preset === null) continue;
    found[name] = { engine: preset.engine || preset.renderer, description: preset.description, args: preset.args || {} };
  }
  return found;
}
