import { Field } from './ui.jsx';
import { t } from '../lib/i18n.js';

// The rate limits of a token or a user (rpm_limit, tpm_limit, max_parallel_requests; 0 = none).
export const LIMIT_FIELDS = [['rpm_limit', 'limits.rpm'], ['tpm_limit', 'limits.tpm'], ['max_parallel_requests', 'limits.parallel']];

export const limitsOf = (row) => Object.fromEntries(LIMIT_FIELDS.map(([k]) => [k, row?.[k] ?? 0]));

// The three fields as numbers for a request body, or null when one is not a whole number >= 0.
export function limitBody(form) {
  const out = {};
  for (const [k] of LIMIT_FIELDS) {
    const n = Number(form[k] === '' ? 0 : form[k]);
    if (!Number.isInteger(n) || n < 0) return null;
    out[k] = n;
  }
  return out;
}

export function LimitFields({ form, set }) {
  return LIMIT_FIELDS.map(([k, label]) => (
    <Field key={k} label={t(label)} hint={t('limits.hint')}>
      <input name={k} type="number" min="0" step="1" value={form[k]} onInput={(e) => set(k, e.currentTarget.value)} />
    </Field>
  ));
}
