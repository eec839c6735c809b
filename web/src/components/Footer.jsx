import { t } from '../lib/i18n.js';
import { status } from '../lib/session.js';
import { useStore } from '../lib/store.js';
import { Markdown } from './Markdown.jsx';

export function Footer() {
  const st = useStore(status);
  if (st.footer_html) return <footer class="footer"><Markdown text={st.footer_html} /></footer>;
  return (
    <footer class="footer">
      {t('footer.default', { name: st.system_name || 'One API', version: st.version || '' })}
    </footer>
  );
}
