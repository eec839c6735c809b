import DOMPurify from 'dompurify';
import { marked } from 'marked';

// Links open in a new tab without access to this window.
DOMPurify.addHook('afterSanitizeAttributes', (node) => {
  if (node.tagName === 'A' && node.getAttribute('href')) {
    node.setAttribute('target', '_blank');
    node.setAttribute('rel', 'noopener noreferrer');
  }
});

const POLICY = {
  USE_PROFILES: { html: true },
  FORBID_TAGS: ['style', 'form', 'input', 'button', 'iframe', 'object', 'embed', 'base', 'meta', 'link'],
  FORBID_ATTR: ['style', 'srcset'],
  ALLOW_DATA_ATTR: false,
};

/** Admin-written Markdown or HTML -> sanitised HTML: no scripts, no handlers, no javascript: URLs. */
export function safeHtml(text) {
  const html = marked.parse(text || '', { async: false, gfm: true, breaks: true });
  return DOMPurify.sanitize(html, POLICY);
}

export const isUrl = (text) => /^https?:\/\/\S+$/i.test((text || '').trim());
