// Small helpers shared by the pages: building elements, formatting, dialogs.

// h("div.card", {onclick}, child, ...) makes an element; strings become text.
export function h(tag, attrs = {}, ...children) {
  const [name, ...classes] = tag.split(".");
  const el = document.createElement(name || "div");
  if (classes.length) el.className = classes.join(" ");
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key in el && key !== "list") el[key] = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  el.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

export const STATUS_LABELS = {
  not_started: "queued",
  scheduled: "scheduled",
  running: "running",
  waiting_for_subjobs: "waiting for servers",
  completed: "completed",
  cancelled: "cancelled",
  error: "error",
};

export const FINISHED = new Set(["completed", "cancelled", "error"]);

export function statusBadge(status) {
  return h(`span.badge.s-${status}`, { dataset: { status } }, STATUS_LABELS[status] || status);
}

export function progressBar(fraction, status) {
  const percent = Math.round((fraction || 0) * 100);
  const bar = h(`div.progress.s-${status}`, { role: "progressbar", title: `${percent}%` });
  bar.setAttribute("aria-valuenow", percent);
  bar.append(h("span", { style: `width:${percent}%` }), h("em", {}, `${percent}%`));
  return bar;
}

export function duration(seconds) {
  if (seconds === null || seconds === undefined || !isFinite(seconds)) return "–";
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s`;
  const hours = Math.floor(s / 3600);
  return `${hours}h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

// The server's clock, less the browser's: times are the server's, and a
// phone's clock may be minutes off.
export const clock = { offsetMs: 0 };

export function serverNow() {
  return Date.now() + clock.offsetMs;
}

// Seconds the job has run (to now, or to when it finished).
export function elapsedSeconds(job, now = serverNow()) {
  // A split job may never run here itself: its time starts when it is made.
  const start = job.started_at || (job.children?.length ? job.created_at : null);
  if (!start) return null;
  const end = job.finished_at ? Date.parse(job.finished_at) : now;
  return (end - Date.parse(start)) / 1000;
}

// A guess from the pace so far; null until there is a pace to go by.
export function remainingSeconds(job, now = serverNow()) {
  if (FINISHED.has(job.status)) return 0;
  const elapsed = elapsedSeconds(job, now);
  const done = job.progress || 0;
  if (elapsed === null || done <= 0.001) return null;
  return (elapsed * (1 - done)) / done;
}

export function when(iso) {
  return iso ? new Date(iso).toLocaleString() : "–";
}

export function hostOf(url) {
  try {
    return new URL(url).host;
  } catch {
    return url || "";
  }
}

// Machines rendering a job: its children's servers, else this one. Names
// that two servers share (several servers on one machine) give way to
// host:port.
export function machines(job, selfName) {
  const children = (job.children || []).filter((c) => !c.lost);
  if (!children.length) return job.started_at ? [selfName] : [];
  const named = children.map((c) => ({ name: childName(c, selfName), host: hostOf(c.server) }));
  const seen = {};
  for (const { name } of named) seen[name] = (seen[name] || 0) + 1;
  return [...new Set(named.map(({ name, host }) => (seen[name] > 1 ? host : name)))];
}

// A child's server by name: its hostname without the URL the parent adds.
export function childName(child, selfName) {
  const label = (child.hostname || "").replace(/\s*\(.*\)$/, "");
  if (label === "this server" || child.server === "self") return selfName;
  return label || hostOf(child.server);
}

export function bytes(n) {
  if (!n && n !== 0) return "–";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}

export function toast(message, kind = "info") {
  const el = h(`div.toast.${kind}`, { role: "status" }, message);
  document.getElementById("toasts").append(el);
  setTimeout(() => el.remove(), kind === "error" ? 8000 : 4000);
}

export function confirmAction(title, text, yesLabel = "Yes") {
  const dialog = document.getElementById("confirm-dialog");
  document.getElementById("confirm-title").textContent = title;
  document.getElementById("confirm-text").textContent = text;
  document.getElementById("confirm-yes").textContent = yesLabel;
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "yes"), { once: true });
    dialog.returnValue = "no";
    dialog.showModal();
  });
}

// Run `work(item)` over items, `width` at a time.
export async function eachLimited(items, width, work) {
  const queue = [...items];
  const lanes = Array.from({ length: Math.min(width, queue.length) }, async () => {
    while (queue.length) await work(queue.shift());
  });
  await Promise.all(lanes);
}

export function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
