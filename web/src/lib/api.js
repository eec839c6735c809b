import { t } from './i18n.js';
import { createStore } from './store.js';

/** Raised for every failed management call; `message` is what the user should read. */
export class ApiError extends Error {}

/** Fired when the server says we are not logged in (HTTP 401). */
export const unauthorized = createStore(0);

async function send(method, path, body) {
  const init = { method, credentials: 'same-origin', headers: {} };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError(t('error.network'));
  }
  if (res.status === 401) unauthorized.set((n) => n + 1);
  if (res.status === 429) throw new ApiError(t('error.rate_limited'));
  const text = await res.text();
  if (!text) {
    // DELETE /api/user/:id answers an empty body on success.
    if (res.ok) return { success: true, message: '' };
    throw new ApiError(t('error.http', { status: res.status }));
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(t('error.http', { status: res.status }));
  }
}

/** Call a management route and return the envelope (`success`, `message`, `data`, extras). */
export async function request(method, path, body) {
  const json = await send(method, path, body);
  if (json.success === false) throw new ApiError(json.message || t('error.unknown'));
  if (json.error) throw new ApiError(json.error.message || t('error.unknown'));
  return json;
}

/** Call a management route and return its `data`. */
export async function api(method, path, body) {
  return (await request(method, path, body)).data;
}

export const get = (path) => api('GET', path);

/** Build a query string from an object, leaving out empty values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}
