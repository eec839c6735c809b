import { useState } from 'preact/hooks';
import { Turnstile } from '../../components/Turnstile.jsx';
import { attempt, toast } from '../../components/toast.js';
import { Card, Field } from '../../components/ui.jsx';
import { api, query } from '../../lib/api.js';
import { t } from '../../lib/i18n.js';
import { startOAuth } from '../../lib/oauth.js';
import { WeChatLogin } from '../WeChatLogin.jsx';

/** Email, GitHub, OIDC, Lark and WeChat bindings of the own account. */
export function Bindings({ me, status, onBound }) {
  const [email, setEmail] = useState('');
  const [code, setCode] = useState('');
  const [turnstile, setTurnstile] = useState('');
  const [wechat, setWechat] = useState(false);

  const sendCode = async () => {
    if (!email) return toast.error(t('register.email_missing'));
    if (status.turnstile_check && !turnstile) return toast.error(t('turnstile.wait'));
    if ((await attempt(() => api('GET', `/api/verification${query({ email, turnstile })}`).then(() => true)))) toast.success(t('register.code_sent'));
  };
  const bindEmail = async () => {
    if ((await attempt(() => api('GET', `/api/oauth/email/bind${query({ email, code })}`).then(() => true)))) {
      toast.success(t('oauth.bound'));
      onBound();
    }
  };
  const row = (label, value) => <><dt>{label}</dt><dd>{value || t('personal.not_bound')}</dd></>;

  return (
    <Card title={t('personal.bindings')}>
      <dl class="facts">
        {row(t('user.bound_email'), me.email)}
        {row(t('user.bound_github_id'), me.github_id)}
        {row(t('user.bound_wechat_id'), me.wechat_id)}
        {row(t('user.bound_lark_id'), me.lark_id)}
        {row(t('user.bound_oidc_id'), me.oidc_id)}
      </dl>
      <div class="form grid">
        <Field label={t('personal.bind_email')}>
          <div class="row">
            <input name="bind_email" type="email" value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
            <button type="button" onClick={sendCode}>{t('register.send_code')}</button>
          </div>
        </Field>
        <Field label={t('register.code')}>
          <div class="row">
            <input name="bind_code" value={code} onInput={(e) => setCode(e.currentTarget.value)} />
            <button type="button" onClick={bindEmail}>{t('personal.bind')}</button>
          </div>
        </Field>
        <Turnstile siteKey={status.turnstile_check ? status.turnstile_site_key : ''} onToken={setTurnstile} />
      </div>
      <div class="form-actions">
        {status.github_oauth && <button onClick={() => attempt(() => startOAuth('github', status))}>{t('personal.bind_github')}</button>}
        {status.oidc && <button onClick={() => attempt(() => startOAuth('oidc', status))}>{t('personal.bind_oidc')}</button>}
        {status.lark_client_id && <button onClick={() => attempt(() => startOAuth('lark', status))}>{t('personal.bind_lark')}</button>}
        {status.wechat_login && <button onClick={() => setWechat(true)}>{t('personal.bind_wechat')}</button>}
      </div>
      {wechat && <WeChatLogin bind qrcode={status.wechat_qrcode} onClose={() => setWechat(false)}
        onDone={() => { setWechat(false); toast.success(t('oauth.bound')); onBound(); }} />}
    </Card>
  );
}
