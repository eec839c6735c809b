import { createStore, useStore } from './store.js';

const current = () => ({ path: location.pathname, search: location.search });
export const route = createStore(current());
window.addEventListener('popstate', () => route.set(current()));

export function navigate(to, { replace = false } = {}) {
  if (replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  route.set(current());
  window.scrollTo(0, 0);
}

export function useRoute() {
  return useStore(route);
}

export function useQuery() {
  return new URLSearchParams(useRoute().search);
}

/** Match `pattern` ("/channel/edit/:id") against `path`; returns params or null. */
export function match(pattern, path) {
  const want = pattern.split('/').filter(Boolean);
  const got = path.split('/').filter(Boolean);
  if (want.length !== got.length) return null;
  const params = {};
  for (let i = 0; i < want.length; i++) {
    if (want[i].startsWith(':')) params[want[i].slice(1)] = decodeURIComponent(got[i]);
    else if (want[i] !== got[i]) return null;
  }
  return params;
}
