// router.js: a tiny client-side router. Pages are addressed by the URL hash
// ("#/profiles/<id>") so a reload works from the static file server without
// any server-side fallback. A path under /ui/ (e.g. "/ui/profiles/<id>",
// the link on the host's /oauth_redirect.do page) is understood too when the
// server serves index.html for it.

const routes = [];
let notFound = null;

/** route("/profiles/:id", fn): fn(params) renders the page. */
export function route(pattern, fn) {
  const names = [];
  const re = new RegExp(`^${pattern.replace(/:([a-z_]+)/g, (_, n) => {
    names.push(n);
    return '([^/]+)';
  })}$`);
  routes.push({ re, names, fn });
}

export function setNotFound(fn) {
  notFound = fn;
}

/** The current app path ("/profiles/abc"), from the hash or a /ui/ path. */
export function currentPath() {
  const hash = location.hash.replace(/^#/, '');
  if (hash.startsWith('/')) return hash;
  const m = location.pathname.match(/^\/ui(\/.*)$/);
  if (m && m[1] !== '/' && !/\.[a-z0-9]+$/i.test(m[1])) return m[1];
  return '/';
}

/** Navigates to an app path; renders through the hashchange listener. */
export function go(path) {
  if (location.hash === `#${path}`) {
    dispatch();
  } else {
    location.hash = path;
  }
}

/** Renders the page for the current path. */
export function dispatch() {
  const path = currentPath();
  for (const r of routes) {
    const m = path.match(r.re);
    if (m) {
      const params = {};
      r.names.forEach((n, i) => {
        params[n] = decodeURIComponent(m[i + 1]);
      });
      return r.fn(params);
    }
  }
  return notFound ? notFound(path) : undefined;
}

export function start() {
  window.addEventListener('hashchange', dispatch);
  dispatch();
}

/** href for an app path (used by <a> so links work with the keyboard). */
export function href(path) {
  return `#${path}`;
}
