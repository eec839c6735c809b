import { createStore } from '../lib/store.js';

export const toasts = createStore([]);
let next = 1;

function push(kind, message) {
  const id = next++;
  toasts.set((list) => [...list, { id, kind, message: String(message) }]);
  setTimeout(() => dismiss(id), kind === 'error' ? 8000 : 4000);
}

export function dismiss(id) {
  toasts.set((list) => list.filter((x) => x.id !== id));
}

export const toast = {
  success: (m) => push('success', m),
  error: (m) => push('error', m),
  info: (m) => push('info', m),
};

/** Run an async action; show its error to the user instead of throwing. Returns the result or undefined. */
export async function attempt(fn) {
  try {
    return await fn();
  } catch (err) {
    toast.error(err.message || String(err));
    return undefined;
  }
}
