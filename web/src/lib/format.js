import { t } from './i18n.js';
import { status } from './session.js';

/** Quota as currency or units, as /api/status says (display_in_currency, quota_per_unit). */
export function renderQuota(quota, digits = 2) {
  const s = status.get();
  const q = Number(quota) || 0;
  if (s.display_in_currency) {
    const perUnit = Number(s.quota_per_unit) || 500000;
    const amount = q / perUnit;
    const shown = amount !== 0 && Math.abs(amount) < 10 ** -digits ? amount.toPrecision(2) : amount.toFixed(digits);
    return `$${shown}`;
  }
  return t('quota.units', { n: q.toLocaleString() });
}

/** The other unit, as a hint next to a raw quota input. */
export function quotaHint(quota) {
  const s = status.get();
  const perUnit = Number(s.quota_per_unit) || 500000;
  return t('quota.hint', { usd: ((Number(quota) || 0) / perUnit).toFixed(6) });
}

export function renderTime(unix) {
  if (!unix || unix <= 0) return '-';
  const d = new Date(unix * 1000);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** unix seconds <-> <input type="datetime-local"> value, in local time. */
export function toLocalInput(unix) {
  if (!unix || unix <= 0) return '';
  const d = new Date(unix * 1000 - new Date().getTimezoneOffset() * 60000);
  return d.toISOString().slice(0, 16);
}

export function fromLocalInput(value) {
  if (!value) return 0;
  const ms = new Date(value).getTime();
  return Number.isNaN(ms) ? 0 : Math.floor(ms / 1000);
}

export const splitList = (s) => (s || '').split(',').map((x) => x.trim()).filter(Boolean);
