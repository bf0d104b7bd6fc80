// The REST API: the session cookie goes by itself (same origin); unsafe methods carry the
// session's CSRF token. Errors come back as {error: {code, message, fields}}, in the
// language of the console's switch (sent as Accept-Language), as are routing reasons.

import { i18n } from "./i18n.js";

let csrfToken = "";

export function setCsrf(token) {
  csrfToken = token || "";
}

export function csrf() {
  return csrfToken;
}

export class ApiError extends Error {
  constructor(status, error) {
    super(error?.message || `HTTP ${status}`);
    this.status = status;
    this.code = error?.code || "http_error";
    this.fields = error?.fields || {};
  }
}

// Listeners told when the session has ended (401), so the shell shows the login page.
const unauthorised = new Set();
export function onUnauthorised(fn) {
  unauthorised.add(fn);
}

async function request(method, path, { body, query, form } = {}) {
  const url = new URL(path, window.location.origin);
  for (const [key, value] of Object.entries(query || {})) {
    if (value === undefined || value === null || value === "") continue;
    url.searchParams.set(key, Array.isArray(value) ? value.join(",") : String(value));
  }
  const headers = { Accept: "application/json", "Accept-Language": i18n.global.locale.value };
  let payload;
  if (form) {
    payload = form;
  } else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  if (method !== "GET") headers["X-CSRF-Token"] = csrfToken;
  const response = await fetch(url, { method, headers, body: payload, credentials: "same-origin" });
  if (response.status === 204) return null;
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    if (response.status === 401 && !path.endsWith("/auth/login")) {
      unauthorised.forEach((fn) => fn());
    }
    throw new ApiError(response.status, data?.error);
  }
  return data;
}

// A file sent as multipart field "file", reporting progress (fetch cannot tell how much
// of a body has gone): onProgress(fraction 0..1). Resolves to the answer's JSON; rejects
// with an ApiError (status 0 when the network failed).
function uploadWithProgress(path, file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", new URL(path, window.location.origin));
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("X-CSRF-Token", csrfToken);
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    xhr.onerror = () => reject(new ApiError(0, { code: "network" }));
    xhr.onload = () => {
      let data = null;
      try {
        data = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch {
        data = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) return resolve(data);
      if (xhr.status === 401) unauthorised.forEach((fn) => fn());
      reject(new ApiError(xhr.status, data?.error));
    };
    const form = new FormData();
    form.append("file", file);
    xhr.send(form);
  });
}

export const api = {
  get: (path, query) => request("GET", path, { query }),
  post: (path, body) => request("POST", path, { body: body ?? {} }),
  put: (path, body) => request("PUT", path, { body }),
  patch: (path, body) => request("PATCH", path, { body }),
  delete: (path) => request("DELETE", path),
  upload: (path, file) => {
    const form = new FormData();
    form.append("file", file);
    return request("POST", path, { form });
  },
  uploadWithProgress,
};
