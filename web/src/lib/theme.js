import { createStore } from './store.js';

/** The console's themes; the names default/berry/air are One API's, dark is ours. */
export const THEMES = ['default', 'dark', 'berry', 'air'];
const KEY = 'theme';

/** The server's theme (THEME / the Theme option), written into <html data-theme> by the master. */
const serverTheme = document.documentElement.dataset.theme || 'default';

function valid(name) {
  if (THEMES.includes(name)) return name;
  console.warn(`Unknown theme "${name}", falling back to "default"`);
  return 'default';
}

export const theme = createStore(valid(localStorage.getItem(KEY) || serverTheme));
document.documentElement.dataset.theme = theme.get();

export function setTheme(name) {
  const next = valid(name);
  localStorage.setItem(KEY, next);
  document.documentElement.dataset.theme = next;
  theme.set(next);
}
