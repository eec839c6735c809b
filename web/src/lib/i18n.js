import en from '../i18n/en.json';
import zh from '../i18n/zh.json';
import { createStore } from './store.js';

export const LANGUAGES = { en, zh };
const KEY = 'lang';

function initialLanguage() {
  const saved = localStorage.getItem(KEY);
  if (saved && LANGUAGES[saved]) return saved;
  const browser = (navigator.languages && navigator.languages[0]) || navigator.language || 'en';
  return browser.toLowerCase().startsWith('zh') ? 'zh' : 'en';
}

export const language = createStore(initialLanguage());
document.documentElement.lang = language.get() === 'zh' ? 'zh-CN' : 'en';

export function setLanguage(lang) {
  localStorage.setItem(KEY, lang);
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  language.set(lang);
}

/** Translate `key` ("section.name"), filling {placeholders} from `vars`. */
export function t(key, vars) {
  const text = LANGUAGES[language.get()][key] ?? LANGUAGES.en[key] ?? key;
  if (!vars) return text;
  return text.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
}
