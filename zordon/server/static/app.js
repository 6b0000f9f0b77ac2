// The dashboard's entry point: a hash router over five pages.

import { getJsonIfThere } from "./api.js";
import * as engines from "./engines.js";
import * as farm from "./farm.js";
import * as job from "./job.js";
import * as jobs from "./jobs.js";
import * as submit from "./submit.js";
import { clock } from "./util.js";

const ROUTES = [
  [/^#\/jobs\/([\w-]+)$/, job, "jobs"],
  [/^#\/submit$/, submit, "submit"],
  [/^#\/engines$/, engines, "engines"],
  [/^#\/farm$/, farm, "farm"],
  [/^(#\/jobs)?$/, jobs, "jobs"],
];

let unmount = null;
export const server = { hostname: "this server" };

function route() {
  const hash = location.hash === "#/" ? "" : location.hash;
  const [pattern, page, tab] = ROUTES.find(([p]) => p.test(hash)) || ROUTES[ROUTES.length - 1];
  const params = hash.match(pattern)?.slice(1) || [];
  unmount?.();
  const view = document.getElementById("view");
  view.replaceChildren();
  view.dataset.page = tab;
  for (const link of document.querySelectorAll("nav a")) {
    link.classList.toggle("active", link.dataset.page === tab);
  }
  unmount = page.mount(view, ...params) || null;
  window.scrollTo(0, 0);
}

async function showHost() {
  const asked = Date.now();
  const status = await getJsonIfThere("/api/status").catch(() => null);
  if (!status) return;
  clock.offsetMs = status.timestamp * 1000 - (asked + Date.now()) / 2;
  server.hostname = status.hostname;
  document.getElementById("host").textContent = `${status.hostname}:${status.port}`;
  document.title = `Zordon · ${status.hostname}`;
  window.dispatchEvent(new Event("zordon:host"));
}

// A file dropped anywhere goes to the Submit page, rather than the browser
// leaving the dashboard to show it.
document.addEventListener("dragover", (event) => event.preventDefault());
document.addEventListener("drop", (event) => {
  event.preventDefault();
  const file = event.dataTransfer?.files?.[0];
  if (!file) return;
  submit.offer(file);
  if (location.hash !== "#/submit") location.hash = "#/submit";
});

window.addEventListener("hashchange", route);
route();
showHost();
