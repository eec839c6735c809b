import { useEffect, useState } from 'preact/hooks';
import { Markdown } from '../components/Markdown.jsx';
import { Card, Loading } from '../components/ui.jsx';
import { get } from '../lib/api.js';
import { t } from '../lib/i18n.js';

export function About() {
  const [about, setAbout] = useState(null);
  const [error, setError] = useState('');
  useEffect(() => {
    get('/api/about').then(setAbout).catch((e) => { setAbout(''); setError(e.message); });
  }, []);
  if (about === null) return <Loading />;
  if (about) return <Markdown text={about} frame class="card about" />;
  return (
    <Card title={t('nav.about')}>
      {error && <p class="field-error" role="alert">{error}</p>}
      <p>{t('about.default')}</p>
    </Card>
  );
}
