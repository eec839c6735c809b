import { t } from '../../lib/i18n.js';

/** Why a model-mapping text is invalid, or '' when it is empty or a JSON object of strings. */
export function mappingError(text) {
  if (!text.trim()) return '';
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return t('channel.mapping_bad_json', { error: err.message });
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return t('channel.mapping_not_object');
  const bad = Object.entries(parsed).find(([, v]) => typeof v !== 'string');
  return bad ? t('channel.mapping_not_string', { key: bad[0] }) : '';
}
