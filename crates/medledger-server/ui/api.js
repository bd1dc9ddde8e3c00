// The medledger HTTP API: bearer token in sessionStorage, problem+json errors.

const TOKEN_KEY = "medledger.token";
const USER_KEY = "medledger.user";

/** An API error carrying the RFC 9457 problem document. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

let onUnauthorized = () => {};

/** Registers what to do on any 401 (go back to the login screen). */
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function currentUser() {
  try {
    return JSON.parse(sessionStorage.getItem(USER_KEY) || "null");
  } catch {
    return null;
  }
}

export function clearSession() {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(USER_KEY);
}

async function problemOf(res) {
  const type = res.headers.get("content-type") || "";
  try {
    if (type.includes("json")) {
      const body = await res.json();
      if (body && typeof body === "object") {
        return {
          type: body.type || "about:blank",
          title: body.title || res.statusText || `HTTP ${res.status}`,
          status: body.status || res.status,
          detail: body.detail || "",
          errors: body.errors,
        };
      }
    }
    const text = await res.text();
    return { type: "about:blank", title: res.statusText || `HTTP ${res.status}`, status: res.status, detail: text.slice(0, 300) };
  } catch {
    return { type: "about:blank", title: res.statusText || `HTTP ${res.status}`, status: res.status, detail: "" };
  }
}

/**
 * Calls the API. `opts.body` is sent as JSON; `opts.as` is "json" (default)
 * or "text" or "blob"; `opts.auth` false skips the bearer token.
 */
export async function request(method, path, opts = {}) {
  const headers = { Accept: "application/json, application/problem+json" };
  const t = token();
  if (t && opts.auth !== false) headers.Authorization = `Bearer ${t}`;
  let body;
  if (opts.body !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(opts.body);
  }
  let res;
  try {
    res = await fetch(path, { method, headers, body, credentials: "same-origin" });
  } catch (e) {
    throw new ApiError(0, { title: "Network error", status: 0, detail: String(e.message || e) });
  }
  if (res.status === 401 && opts.auth !== false) {
    const problem = await problemOf(res);
    clearSession();
    onUnauthorized(problem);
    throw new ApiError(401, problem);
  }
  if (!res.ok) throw new ApiError(res.status, await problemOf(res));
  if (res.status === 204) return null;
  const as = opts.as || "json";
  if (as === "text") return res.text();
  if (as === "blob") return res.blob();
  const text = await res.text();
  return text ? JSON.parse(text) : null;
}

export const get = (path, opts) => request("GET", path, opts);
export const post = (path, body, opts = {}) => request("POST", path, { ...opts, body });

export async function login(username, password) {
  const out = await request("POST", "/api/v1/login", {
    auth: false,
    body: { org: "default", username, password },
  });
  sessionStorage.setItem(TOKEN_KEY, out.token);
  sessionStorage.setItem(USER_KEY, JSON.stringify(out.user || { username }));
  return out;
}

export async function logout() {
  try {
    await request("POST", "/api/v1/logout", { body: {} });
  } finally {
    clearSession();
  }
}

/** Builds a query string from the non-empty entries of `params`. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && String(v).trim() !== "") q.set(k, String(v).trim());
  }
  const s = q.toString();
  return s ? `?${s}` : "";
}

/** Fetches `path` with the token and saves the body as `filename`. */
export async function download(path, filename) {
  const blob = await request("GET", path, { as: "blob" });
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return blob;
}
