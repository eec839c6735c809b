import { useEffect, useState } from 'preact/hooks';
import { Markdown } from '../components/Markdown.jsx';
import { Card, Loading } from '../components/ui.jsx';
import { get } from '../lib/api.js';
import { renderTime } from '../lib/format.js';
import { t } from '../lib/i18n.js';
import { status } from '../lib/session.js';
import { useStore } from '../lib/store.js';

/** The notice, then the admin's home page (Markdown or a URL), or a status summary. */
export function Home() {
  const st = useStore(status);
  const [notice, setNotice] = useState('');
  const [content, setContent] = useState(null);
  const [error, setError] = useState('');
  useEffect(() => {
    get('/api/notice').then(setNotice).catch((e) => setError(e.message));
    get('/api/home_page_content').then(setContent).catch((e) => { setContent(''); setError(e.message); });
  }, []);
  return (
    <div class="stack">
      {error && <p class="field-error" role="alert">{error}</p>}
      {notice && (
        <Card title={t('home.notice')} class="notice">
          <Markdown text={notice} class="notice-body" />
        </Card>
      )}
      {content === null ? <Loading /> : content ? (
        <Markdown text={content} frame class="home-content card" />
      ) : (
        <Card title={t('home.system_status')}>
          <dl class="facts">
            <dt>{t('home.name')}</dt><dd>{st.system_name}</dd>
            <dt>{t('home.version')}</dt><dd>{st.version}</dd>
            <dt>{t('home.started')}</dt><dd>{renderTime(st.start_time)}</dd>
            <dt>{t('home.email_verification')}</dt><dd>{st.email_verification ? t('common.on') : t('common.off')}</dd>
            <dt>GitHub</dt><dd>{st.github_oauth ? t('common.on') : t('common.off')}</dd>
            <dt>{t('login.wechat')}</dt><dd>{st.wechat_login ? t('common.on') : t('common.off')}</dd>
            <dt>Turnstile</dt><dd>{st.turnstile_check ? t('common.on') : t('common.off')}</dd>
          </dl>
          <p class="muted">{t('home.intro')}</p>
        </Card>
      )}
    </div>
  );
}
