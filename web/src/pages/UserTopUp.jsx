import { useEffect, useState } from 'preact/hooks';
import { Link } from '../components/Link.jsx';
import { attempt, toast } from '../components/toast.js';
import { Card, Field } from '../components/ui.jsx';
import { api, get } from '../lib/api.js';
import { quotaHint, renderQuota } from '../lib/format.js';
import { t } from '../lib/i18n.js';
import { useQuery } from '../lib/router.js';

const MAX_REMARK = 255;

/** Admins credit a user's quota with a remark (POST /api/topup); the remark is the log's text. */
export function UserTopUp() {
  const query = useQuery();
  const [userId, setUserId] = useState(query.get('id') || '');
  const [target, setTarget] = useState(null);
  const [quota, setQuota] = useState('');
  const [remark, setRemark] = useState('');
  const [busy, setBusy] = useState(false);

  const lookUp = (id) => {
    setTarget(null);
    if (!/^\d{1,18}$/.test(id)) return;
    attempt(() => get(`/api/user/${id}`).then(setTarget));
  };
  useEffect(() => { lookUp(userId); }, []);

  const submit = async (e) => {
    e.preventDefault();
    const id = Number(userId);
    const amount = Number(quota);
    if (!Number.isInteger(id) || id <= 0) return toast.error(t('admin_topup.bad_user'));
    if (!Number.isInteger(amount) || amount <= 0) return toast.error(t('admin_topup.bad_quota'));
    setBusy(true);
    const done = await attempt(() => api('POST', '/api/topup', { user_id: id, quota: amount, remark: remark.trim() }).then(() => true));
    setBusy(false);
    if (done) {
      toast.success(t('admin_topup.done', { quota: renderQuota(amount), id }));
      setQuota('');
      setRemark('');
      lookUp(String(id));
    }
  };

  return (
    <Card title={t('admin_topup.title')} actions={<Link class="button" href="/user">{t('nav.users')}</Link>}>
      <form class="form grid" onSubmit={submit}>
        <Field label={t('admin_topup.user_id')} hint={target ? t('admin_topup.target', { name: target.username, quota: renderQuota(target.quota) }) : undefined}>
          <input name="user_id" inputMode="numeric" value={userId} onInput={(e) => setUserId(e.currentTarget.value)}
            onBlur={(e) => lookUp(e.currentTarget.value.trim())} />
        </Field>
        <Field label={t('admin_topup.quota')} hint={quotaHint(quota)}>
          <input name="quota" type="number" value={quota} onInput={(e) => setQuota(e.currentTarget.value)} />
        </Field>
        <Field label={t('admin_topup.remark')} hint={t('admin_topup.remark_hint')} wide>
          <input name="remark" maxLength={MAX_REMARK} value={remark} onInput={(e) => setRemark(e.currentTarget.value)} />
        </Field>
        <div class="form-actions wide">
          <button type="submit" class="primary" disabled={busy}>{t('admin_topup.submit')}</button>
        </div>
      </form>
    </Card>
  );
}
