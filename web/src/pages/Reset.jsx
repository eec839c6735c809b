import { useState } from 'preact/hooks';
import { Link } from '../components/Link.jsx';
import { Turnstile } from '../components/Turnstile.jsx';
import { attempt, toast } from '../components/toast.js';
import { Field } from '../components/ui.jsx';
import { api, query } from '../lib/api.js';
import { copy } from '../lib/clipboard.js';
import { t } from '../lib/i18n.js';
import { useQuery } from '../lib/router.js';
import { status } from '../lib/session.js';
import { useStore } from '../lib/store.js';

/** Step 1: mail a reset link. */
export function ResetRequest() {
  const st = useStore(status);
  const [email, setEmail] = useState('');
  const [turnstile, setTurnstile] = useState('');
  const [sent, setSent] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    if (!email) return toast.error(t('register.email_missing'));
    if (st.turnstile_check && !turnstile) return toast.error(t('turnstile.wait'));
    const ok = await attempt(() => api('GET', `/api/reset_password${query({ email, turnstile })}`).then(() => true));
    if (ok) setSent(true);
  };
  return (
    <div class="auth card">
      <h2>{t('reset.title')}</h2>
      {sent ? <p role="status">{t('reset.sent', { email })}</p> : (
        <form class="form" onSubmit={submit}>
          <Field label={t('register.email')}>
            <input name="email" type="email" value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
          </Field>
          <Turnstile siteKey={st.turnstile_check ? st.turnstile_site_key : ''} onToken={setTurnstile} />
          <button type="submit" class="primary block">{t('reset.send')}</button>
        </form>
      )}
      <p class="auth-links"><Link href="/login">{t('register.have_account')}</Link></p>
    </div>
  );
}

/** Step 2: the mailed link lands here; the server sets and returns a new password. */
export function ResetConfirm() {
  const q = useQuery();
  const email = q.get('email') || '';
  const token = q.get('token') || '';
  const [password, setPassword] = useState('');
  const submit = async () => {
    const data = await attempt(() => api('POST', '/api/user/reset', { email, token }));
    if (data) {
      setPassword(data);
      copy(data, t('reset.new_password'));
    }
  };
  return (
    <div class="auth card">
      <h2>{t('reset.confirm_title')}</h2>
      <Field label={t('register.email')}><input value={email} readOnly /></Field>
      {password ? (
        <Field label={t('reset.new_password')} hint={t('reset.change_soon')}>
          <input class="mono" value={password} readOnly />
        </Field>
      ) : (
        <button class="primary block" onClick={submit} disabled={!email || !token}>{t('reset.confirm')}</button>
      )}
      <p class="auth-links"><Link href="/login">{t('register.have_account')}</Link></p>
    </div>
  );
}
