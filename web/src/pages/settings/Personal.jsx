import { useEffect, useState } from 'preact/hooks';
import { confirmDialog } from '../../components/dialogs.jsx';
import { attempt, toast } from '../../components/toast.js';
import { Card, Field } from '../../components/ui.jsx';
import { api, get, query } from '../../lib/api.js';
import { copy } from '../../lib/clipboard.js';
import { renderQuota } from '../../lib/format.js';
import { t } from '../../lib/i18n.js';
import { navigate } from '../../lib/router.js';
import { setUser, status } from '../../lib/session.js';
import { useStore } from '../../lib/store.js';
import { roleTag } from '../Users.jsx';
import { Bindings } from './Bindings.jsx';

/** Own account: profile, access token, invitation link, bindings, deletion. */
export function Personal() {
  const [me, setMe] = useState(null);
  const [form, setForm] = useState({ username: '', display_name: '', password: '', password2: '' });
  const [accessToken, setAccessToken] = useState('');
  const [affLink, setAffLink] = useState('');
  const st = useStore(status);

  const refresh = () => attempt(() => get('/api/user/self').then((u) => {
    setMe(u);
    setForm((f) => ({ ...f, username: u.username, display_name: u.display_name }));
  }));
  useEffect(() => { refresh(); }, []);
  const set = (k) => (e) => setForm({ ...form, [k]: e.currentTarget.value });

  const saveProfile = async (e) => {
    e.preventDefault();
    if (form.password && (form.password.length < 8 || form.password.length > 20)) return toast.error(t('register.password_hint'));
    if (form.password !== form.password2) return toast.error(t('register.password_mismatch'));
    const body = { username: form.username.trim(), display_name: form.display_name, password: form.password };
    if ((await attempt(() => api('PUT', '/api/user/self', body).then(() => true)))) {
      toast.success(t('common.saved'));
      setForm({ ...form, password: '', password2: '' });
      refresh();
    }
  };
  const newAccessToken = async () => {
    const token = await attempt(() => get('/api/user/token'));
    if (token) {
      setAccessToken(token);
      copy(token, t('personal.access_token'));
    }
  };
  const invitation = async () => {
    const code = await attempt(() => get('/api/user/aff'));
    if (code) {
      const link = `${location.origin}/register${query({ aff: code })}`;
      setAffLink(link);
      copy(link, t('personal.invitation'));
    }
  };
  const deleteAccount = async () => {
    if (!(await confirmDialog(t('personal.delete_confirm')))) return;
    if ((await attempt(() => api('DELETE', '/api/user/self').then(() => true)))) {
      setUser(null);
      navigate('/login');
    }
  };

  return (
    <div class="stack">
      <Card title={t('personal.account')}>
        {me && (
          <dl class="facts">
            <dt>{t('login.username')}</dt><dd>{me.username}</dd>
            <dt>{t('user.role')}</dt><dd>{roleTag(me.role)}</dd>
            <dt>{t('user.group')}</dt><dd>{me.group}</dd>
            <dt>{t('dashboard.balance')}</dt><dd>{renderQuota(me.quota)}</dd>
            <dt>{t('dashboard.used')}</dt><dd>{renderQuota(me.used_quota)}</dd>
            <dt>{t('dashboard.request_count')}</dt><dd>{me.request_count}</dd>
          </dl>
        )}
        <form class="form grid" onSubmit={saveProfile}>
          <Field label={t('login.username')}><input name="username" maxLength={12} value={form.username} onInput={set('username')} /></Field>
          <Field label={t('user.display_name')}><input name="display_name" maxLength={20} value={form.display_name} onInput={set('display_name')} /></Field>
          <Field label={t('personal.new_password')} hint={t('user.password_keep')}>
            <input name="password" type="password" autoComplete="new-password" value={form.password} onInput={set('password')} />
          </Field>
          <Field label={t('register.password2')}>
            <input name="password2" type="password" autoComplete="new-password" value={form.password2} onInput={set('password2')} />
          </Field>
          <div class="form-actions wide"><button type="submit" class="primary">{t('personal.save_profile')}</button></div>
        </form>
      </Card>
      <Card title={t('personal.access_token')}>
        <p class="muted">{t('personal.access_token_hint')}</p>
        {accessToken && <input class="mono" readOnly value={accessToken} aria-label={t('personal.access_token')} />}
        <div class="form-actions"><button onClick={newAccessToken}>{t('personal.generate_token')}</button></div>
      </Card>
      <Card title={t('personal.invitation')}>
        <p class="muted">{t('personal.invitation_hint')}</p>
        {affLink && <input class="mono" readOnly value={affLink} aria-label={t('personal.invitation')} />}
        <div class="form-actions"><button onClick={invitation}>{t('personal.copy_invitation')}</button></div>
      </Card>
      {me && <Bindings me={me} status={st} onBound={refresh} />}
      <Card title={t('personal.danger')}>
        <button class="danger" onClick={deleteAccount}>{t('personal.delete_account')}</button>
      </Card>
    </div>
  );
}
