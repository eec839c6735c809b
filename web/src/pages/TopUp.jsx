import { useEffect, useState } from 'preact/hooks';
import { attempt, toast } from '../components/toast.js';
import { Card, Field } from '../components/ui.jsx';
import { api, get } from '../lib/api.js';
import { renderQuota } from '../lib/format.js';
import { t } from '../lib/i18n.js';
import { status } from '../lib/session.js';
import { useStore } from '../lib/store.js';

export function TopUp() {
  const st = useStore(status);
  const [me, setMe] = useState(null);
  const [code, setCode] = useState('');
  const [busy, setBusy] = useState(false);
  const refresh = () => attempt(() => get('/api/user/self').then(setMe));
  useEffect(() => { refresh(); }, []);

  const redeem = async (e) => {
    e.preventDefault();
    if (!code.trim()) return toast.error(t('topup.code_missing'));
    setBusy(true);
    const quota = await attempt(() => api('POST', '/api/user/topup', { key: code.trim() }));
    setBusy(false);
    if (quota !== undefined) {
      toast.success(t('topup.done', { quota: renderQuota(quota) }));
      setCode('');
      refresh();
    }
  };

  return (
    <Card title={t('nav.topup')}>
      <p class="balance">{t('topup.balance')}: <strong data-testid="balance">{me ? renderQuota(me.quota) : '…'}</strong></p>
      <form class="form" onSubmit={redeem}>
        <Field label={t('topup.code')}>
          <input name="code" value={code} onInput={(e) => setCode(e.currentTarget.value)} placeholder={t('topup.placeholder')} />
        </Field>
        <div class="form-actions">
          <button type="submit" class="primary" disabled={busy}>{t('topup.redeem')}</button>
          {st.top_up_link && <a class="button" href={st.top_up_link} target="_blank" rel="noopener noreferrer">{t('topup.buy')}</a>}
        </div>
      </form>
    </Card>
  );
}
