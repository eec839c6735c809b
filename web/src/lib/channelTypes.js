import { useEffect } from 'preact/hooks';
import { get } from './api.js';
import { language } from './i18n.js';
import { createStore, useStore } from './store.js';

/**
 * The channel types, as GET /api/channel/types serves them from the provider registry
 * (shared/relay/adaptors/registry.py): label {en, zh}, default base URL, whether one is required,
 * the key format, the config keys a key is composed from, and the type's extra form fields.
 * Loaded once per page load; null until then.
 */
export const channelTypes = createStore(null);
let loading = null;

export function loadChannelTypes() {
  if (!loading) {
    loading = get('/api/channel/types')
      .then((types) => channelTypes.set(types || []))
      .catch((err) => { loading = null; throw err; });
  }
  return loading;
}

/** The type list (null while loading), fetched on first use. */
export function useChannelTypes() {
  const types = useStore(channelTypes);
  useEffect(() => { loadChannelTypes().catch(() => {}); }, []);
  return types;
}

/** A registry text ({en, zh}) in the console's language. */
export function localText(text) {
  if (!text) return '';
  return language.get() === 'zh' ? text.zh : text.en;
}

export function typeLabel(types, id) {
  const type = (types || []).find((x) => x.id === Number(id));
  return type ? localText(type.label) : `#${id}`;
}

/** The key a type without a plain key is stored with: its `key_from_fields` config values joined by "|". */
export function composedKey(type, config) {
  const names = (type && type.key_from_fields) || [];
  if (!names.length || names.some((n) => !config[n])) return '';
  return names.map((n) => config[n]).join('|');
}
