import { get, unauthorized } from './api.js';
import { createStore } from './store.js';

export const ROLE = { common: 1, admin: 10, root: 100 };

function saved(key) {
  try {
    return JSON.parse(localStorage.getItem(key) || 'null');
  } catch {
    return null;
  }
}

/** The logged-in user ({id, username, display_name, role, status}) or null. */
export const user = createStore(saved('user'));
/** /api/status data, cached so the first paint has a system name and quota units. */
export const status = createStore(saved('status') || {});

export function setUser(next) {
  if (next) localStorage.setItem('user', JSON.stringify(next));
  else localStorage.removeItem('user');
  user.set(next);
}

export async function loadStatus() {
  const data = await get('/api/status');
  localStorage.setItem('status', JSON.stringify(data));
  status.set(data);
  document.title = data.system_name || 'One API';
  return data;
}

/** Confirm the cached login is still a live session. */
export async function refreshSelf() {
  if (!user.get()) return;
  try {
    const me = await get('/api/user/self');
    setUser({ ...user.get(), ...me });
  } catch {
    /* 401 clears the user below; other errors keep the cached one */
  }
}

unauthorized.subscribe(() => setUser(null));

export const isAdmin = (u) => !!u && u.role >= ROLE.admin;
export const isRoot = (u) => !!u && u.role >= ROLE.root;
