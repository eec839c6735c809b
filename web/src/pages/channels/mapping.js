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

/** The key a type without a plain key is stored with, built from its config fields. */
export function composedKey(type, config) {
  if (type === 33 && config.ak && config.sk && config.region) return `${config.ak}|${config.sk}|${config.region}`;
  if (type === 42 && config.region && config.vertex_ai_project_id && config.vertex_ai_adc) {
    return `${config.region}|${config.vertex_ai_project_id}|${config.vertex_ai_adc}`;
  }
  return '';
}
