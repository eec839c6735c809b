import { useState } from 'preact/hooks';
import { Link } from '../components/Link.jsx';
import { attempt, toast } from '../components/toast.js';
import { Field } from '../components/ui.jsx';
import { WeChatLogin } from './WeChatLogin.jsx';
import { api } from '../lib/api.js';
import { t } from '../lib/i18n.js';
import { startOAuth } from '../lib/oauth.js';
import { navigate, useQuery } from '../lib/router.js';
import { setUser, status } from '../lib/session.js';
import { useStore } from '../lib/store.js';

export function Login() {
  const st = useStore(status);
  const next = useQuery().get('next') || '/';
  const [form, setForm] = useState({ username: '', password: '' });
  const [busy, setBusy] = useState(false);
  const [wechat, setWechat] = useState(false);

  const loggedIn = (data) => {
    setUser(data);
    toast.success(t('login.welcome', { name: data.display_name || data.username }));
    navigate(next.startsWith('/') ? next : '/');
  };

  const submit = async (e) => {
    e.preventDefault();
    if (!form.username || !form.password) return toast.error(t('login.missing'));
    setBusy(true);
    const data = await attempt(() => api('POST', '/api/user/login', form));
    setBusy(false);
    if (data) loggedIn(data);
  };

  const oauth = (p) => attempt(() => startOAuth(p, st));
  const set = (k) => (e) => setForm({ ...form, [k]: e.currentTarget.value });
  return (
    <div class="auth card">
      <h2>{t('login.title')}</h2>
      <form onSubmit={submit} class="form">
        <Field label={t('login.username')}>
          <input name="username" autoComplete="username" value={form.username} onInput={set('username')} />
        </Field>
        <Field label={t('login.password')}>
          <input name="password" type="password" autoComplete="current-password" value={form.password} onInput={set('password')} />
        </Field>
        <button type="submit" class="primary block" disabled={busy}>{t('login.submit')}</button>
      </form>
      <p class="auth-links">
        <Link href="/reset">{t('login.forgot')}</Link>
        <Link href="/register">{t('login.register')}</Link>
      </p>
      {(st.github_oauth || st.oidc || st.lark_client_id || st.wechat_login) && (
        <div class="oauth">
          <span class="muted">{t('login.other_ways')}</span>
          {st.github_oauth && <button onClick={() => oauth('github')}>GitHub</button>}
          {st.oidc && <button onClick={() => oauth('oidc')}>OIDC</button>}
          {st.lark_client_id && <button onClick={() => oauth('lark')}>{t('login.lark')}</button>}
          {st.wechat_login && <button onClick={() => setWechat(true)}>{t('login.wechat')}</button>}
        </div>
      )}
      {wechat && <WeChatLogin qrcode={st.wechat_qrcode} onClose={() => setWechat(false)} onDone={loggedIn} />}
    </div>
  );
}
