import { isUrl, safeHtml } from '../lib/markdown.js';

/** Admin-editable content: a URL is framed (sandboxed), anything else is sanitised Markdown/HTML. */
export function Markdown({ text, class: cls, frame }) {
  if (frame && isUrl(text)) {
    return <iframe class="content-frame" src={text.trim()} sandbox="allow-scripts allow-same-origin allow-popups allow-forms" title="content" />;
  }
  // safeHtml() runs DOMPurify over the rendered Markdown; nothing unsanitised reaches the DOM.
  return <div class={`markdown ${cls || ''}`} dangerouslySetInnerHTML={{ __html: safeHtml(text) }} />;
}
