import { useState } from 'preact/hooks';
import { Link } from '../components/Link.jsx';
import { Turnstile } from '../components/Turnstile.jsx';
import { attempt, toast } from '../components/toast.js';
import { Field } from '../components/ui.jsx';
import { api, query } from '../lib/api.js';
import { t } from '../lib/i18n.js';
import { navigate, useQuery } from '../lib/router.js';
import { status } from '../lib/session.js';
import { useStore } from '../lib/store.js';

export function Register() {
  const st = useStore(status);
  const aff = useQuery().get('aff') || localStorage.getItem('aff') || '';
  if (aff) localStorage.setItem('aff', aff);
  const [form, setForm] = useState({ username: '', password: '', password2: '', email: '', verification_code: '' });
  const [turnstile, setTurnstile] = useState('');
  const [busy, setBusy] = useState(false);
  const set = (k) => (e) => setForm({ ...form, [k]: e.currentTarget.value });
  const needTurnstile = st.turnstile_check && !turnstile;

  const sendCode = async () => {
    if (!form.email) return toast.error(t('register.email_missing'));
    if (needTurnstile) return toast.error(t('turnstile.wait'));
    const ok = await attempt(() => api('GET', `/api/verification${query({ email: form.email, turnstile })}`));
    if (ok !== undefined) toast.success(t('register.code_sent'));
  };

  const submit = async (e) => {
    e.preventDefault();
    if (form.password.length < 8) return toast.error(t('register.password_short'));
    if (form.password !== form.password2) return toast.error(t('register.password_mismatch'));
    if (needTurnstile) return toast.error(t('turnstile.wait'));
    setBusy(true);
    const body = { username: form.username, password: form.password, aff_code: aff };
    if (st.email_verification) Object.assign(body, { email: form.email, verification_code: form.verification_code });
    const done = await attempt(() => api('POST', `/api/user/register${query({ turnstile })}`, body).then(() => true));
    setBusy(false);
    if (done) {
      toast.success(t('register.done'));
      navigate('/login');
    }
  };

  return (
    <div class="auth card">
      <h2>{t('register.title')}</h2>
      <form class="form" onSubmit={submit}>
        <Field label={t('login.username')} hint={t('register.username_hint')}>
          <input name="username" maxLength={12} value={form.username} onInput={set('username')} />
        </Field>
        <Field label={t('login.password')} hint={t('register.password_hint')}>
          <input name="password" type="password" autoComplete="new-password" value={form.password} onInput={set('password')} />
        </Field>
        <Field label={t('register.password2')}>
          <input name="password2" type="password" autoComplete="new-password" value={form.password2} onInput={set('password2')} />
        </Field>
        {st.email_verification && (
          <>
            <Field label={t('register.email')}>
              <div class="row">
                <input name="email" type="email" value={form.email} onInput={set('email')} />
                <button type="button" onClick={sendCode}>{t('register.send_code')}</button>
              </div>
            </Field>
            <Field label={t('register.code')}>
              <input name="verification_code" value={form.verification_code} onInput={set('verification_code')} />
            </Field>
          </>
        )}
        {aff && <p class="muted">{t('register.invited', { code: aff })}</p>}
        <Turnstile siteKey={st.turnstile_check ? st.turnstile_site_key : ''} onToken={setTurnstile} />
        <button type="submit" class="primary block" disabled={busy}>{t('register.submit')}</button>
      </form>
      <p class="auth-links"><Link href="/login">{t('register.have_account')}</Link></p>
    </div>
  );
}
