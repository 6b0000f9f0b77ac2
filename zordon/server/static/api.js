// Every call the dashboard makes goes through here: same server, /api only.
// With a farm token set, a 401 asks for the token once; it is kept in this
// browser and sent as "Authorization: Bearer TOKEN" on every request.

const TOKEN_KEY = "zordon.farmToken";

export class ApiError extends Error {
  constructor(status, message) {
    super(message || `HTTP ${status}`);
    this.status = status;
  }
}

let askingForToken = null;

function authHeaders() {
  const token = localStorage.getItem(TOKEN_KEY);
  return token ? { Authorization: `Bearer ${token}` } : {};
}

// One dialog for every request that met a 401 at the same time.
function askForToken(refused) {
  if (!askingForToken) {
    askingForToken = showTokenDialog(refused).finally(() => {
      askingForToken = null;
    });
  }
  return askingForToken;
}

function showTokenDialog(refused) {
  const dialog = document.getElementById("token-dialog");
  const input = document.getElementById("token-input");
  document.getElementById("token-error").hidden = !refused;
  input.value = "";
  return new Promise((resolve) => {
    dialog.addEventListener(
      "close",
      () => {
        localStorage.setItem(TOKEN_KEY, input.value.trim());
        resolve();
      },
      { once: true },
    );
    dialog.showModal();
    input.focus();
  });
}

// fetch() with the token; on 401 asks for it and tries again.
export async function request(path, options = {}) {
  for (let attempt = 0; ; attempt++) {
    const headers = { ...(options.headers || {}), ...authHeaders() };
    const response = await fetch(path, { ...options, headers });
    if (response.status !== 401 || options.signal?.aborted) {
      if (!response.ok && response.status !== 204) {
        throw new ApiError(response.status, (await response.text()).trim());
      }
      return response;
    }
    await askForToken(attempt > 0 || Boolean(localStorage.getItem(TOKEN_KEY)));
  }
}

export async function getJson(path, options) {
  const response = await request(path, options);
  return response.status === 204 ? null : response.json();
}

export async function getText(path, options) {
  return (await request(path, options)).text();
}

export async function postJson(path, body) {
  const options = { method: "POST" };
  if (body !== undefined) {
    options.body = JSON.stringify(body);
    options.headers = { "Content-Type": "application/json" };
  }
  const response = await request(path, options);
  return response.json();
}

// A route that may not exist on this server yet: null instead of a 404.
export async function getJsonIfThere(path) {
  try {
    return await getJson(path);
  } catch (error) {
    if (error.status === 404 || error.status === 405) return null;
    throw error;
  }
}

// An object URL for an image or file fetched with the token; revoke it later.
export async function blobUrl(path, options) {
  const response = await request(path, options);
  return URL.createObjectURL(await response.blob());
}

// Save a file from the API as a download, sending the token.
export async function download(path, filename) {
  const response = await request(path);
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = filename || nameFromHeader(response) || "download";
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

function nameFromHeader(response) {
  const header = response.headers.get("Content-Disposition") || "";
  const match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(header);
  return match ? decodeURIComponent(match[1]) : null;
}

// Upload a file with XMLHttpRequest, which reports progress as fetch cannot.
export function upload(path, file, onProgress) {
  const send = () =>
    new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", path);
      for (const [name, value] of Object.entries(authHeaders())) {
        xhr.setRequestHeader(name, value);
      }
      xhr.setRequestHeader("Content-Type", "application/octet-stream");
      xhr.upload.onprogress = (event) => {
        if (event.lengthComputable) onProgress(event.loaded / event.total);
      };
      xhr.onload = () => resolve(xhr);
      xhr.onerror = () => reject(new ApiError(0, "the upload failed"));
      xhr.send(file);
    });
  return (async () => {
    for (let attempt = 0; ; attempt++) {
      const xhr = await send();
      if (xhr.status === 401) {
        await askForToken(attempt > 0 || Boolean(localStorage.getItem(TOKEN_KEY)));
        continue;
      }
      if (xhr.status !== 200) throw new ApiError(xhr.status, xhr.responseText.trim());
      return JSON.parse(xhr.responseText);
    }
  })();
}

export function query(params) {
  const pairs = Object.entries(params).filter(([, v]) => v !== undefined && v !== "");
  return new URLSearchParams(pairs).toString();
}
