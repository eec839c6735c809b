import { Card } from '../components/ui.jsx';
import { t } from '../lib/i18n.js';
import { status } from '../lib/session.js';
import { useStore } from '../lib/store.js';

/** The ChatLink option's chat UI inside the console (the CSP's frame-src admits its origin). */
export function Chat() {
  const st = useStore(status);
  const link = st.chat_link;
  if (!link) return <Card title={t('nav.chat')}><p data-testid="no-chat">{t('chat.not_configured')}</p></Card>;
  return (
    <div class="stack">
      <div class="actions">
        <a class="button" href={link} target="_blank" rel="noopener noreferrer">{t('chat.new_tab')}</a>
      </div>
      <iframe class="content-frame" src={link} title={t('nav.chat')} data-testid="chat-frame" referrerpolicy="no-referrer"
        sandbox="allow-scripts allow-same-origin allow-popups allow-forms" />
    </div>
  );
}
