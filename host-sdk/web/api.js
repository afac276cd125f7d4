// api.js: the fetch wrapper for samhost's REST API (/api/v1/...).
//
// Authentication: the admin token is sent as "Authorization: Bearer <token>"
// on every call. It lives in sessionStorage only (gone when the tab closes),
// never in a cookie, the URL or localStorage; sign-out removes it.
//
// CSRF: the API never authenticates with cookies, so a cross-site page cannot
// ride on ambient credentials. As a second line of defence every
// state-changing request (POST, PUT, PATCH, DELETE) carries the custom header
// "X-SAM-CSRF: 1". A cross-site form cannot set a custom header, and a
// cross-site fetch with one needs a CORS preflight the host never grants.
// THE SERVER MUST REQUIRE IT: samhost should refuse POST/PUT/PATCH/DELETE
// under /api/ without "X-SAM-CSRF: 1" (403).

const TOKEN_KEY = 'sam.adminToken';

export function getToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function setToken(t) {
  sessionStorage.setItem(TOKEN_KEY, t);
}

export function clearToken() {
  try {
    sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    /* storage disabled: nothing kept */
  }
}

/**
 * An API failure: status (HTTP), code ("SAM_EINVAL"...), message, and the
 * per-field errors [{pointer, message}] the service returns.
 */
export class ApiError extends Error {
  constructor(http, body, fallback) {
    const msg = (body && typeof body.message === 'string' && body.message) || fallback;
    super(msg);
    this.name = 'ApiError';
    this.http = http;
    this.code = body && typeof body.status === 'string' ? body.status : '';
    this.errors = body && Array.isArray(body.errors) ? body.errors : [];
    this.body = body;
  }

  /** True when the plugin or host answers that it does not support the
   * call (SAM_ENOTSUP): shown as "pending", not as a failure, since any
   * plugin may leave an action unsupported. Decided on the status code,
   * never on the message text. */
  get notImplemented() {
    return this.code === 'SAM_ENOTSUP' || this.http === 501;
  }
}

let onUnauthorized = null;
/** Called (once per 401) so the app can go back to the sign-in page. */
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * api(method, path, {query, body}) -> parsed JSON of a 2xx reply.
 * Throws ApiError for any other reply (with the server's message and
 * per-field errors) and for network failures (http 0).
 */
export async function api(method, path, opts = {}) {
  const headers = { Accept: 'application/json' };
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (STATE_CHANGING.has(method)) headers['X-SAM-CSRF'] = '1';
  let body;
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  let url = path;
  if (opts.query) {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(opts.query)) {
      if (v !== undefined && v !== null && v !== '') qs.set(k, String(v));
    }
    const s = qs.toString();
    if (s) url += `?${s}`;
  }
  let res;
  try {
    res = await fetch(url, {
      method,
      headers,
      body,
      credentials: 'omit', // never cookies
      cache: 'no-store',
      redirect: 'error',
    });
  } catch (e) {
    throw new ApiError(0, null, `cannot reach the host (${e.message})`);
  }
  let data = null;
  const text = await res.text();
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (res.status === 401) {
    if (onUnauthorized) onUnauthorized();
    throw new ApiError(401, data, 'the admin token was refused; sign in again');
  }
  if (!res.ok) {
    throw new ApiError(res.status, data, `${method} ${path} failed (HTTP ${res.status})`);
  }
  return data;
}

/** encodeURIComponent for one path segment. */
export function seg(s) {
  return encodeURIComponent(String(s));
}
