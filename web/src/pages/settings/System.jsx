import { useState } from 'preact/hooks';
import { attempt, toast } from '../../components/toast.js';
import { api } from '../../lib/api.js';
import { t } from '../../lib/i18n.js';
import { OptionGroup } from './OptionGroup.jsx';

/** Fills the three OIDC endpoints from the well-known URL; the master fetches the document, since
 * the console's CSP lets the browser reach this origin only. The admin reviews, then saves. */
function OidcDiscover({ url, fill }) {
  const [busy, setBusy] = useState(false);
  const discover = async () => {
    if (!url || !url.trim()) return toast.error(t('settings.oidc_well_known_missing'));
    setBusy(true);
    const found = await attempt(() => api('POST', '/api/oidc/discovery', { url: url.trim() }));
    setBusy(false);
    if (!found) return;
    const { issuer, ...endpoints } = found;
    fill(endpoints);
    toast.success(t('settings.oidc_filled', { issuer: issuer || url.trim() }));
  };
  return <button type="button" onClick={discover} disabled={busy}>{t('settings.oidc_fill')}</button>;
}

const TOOLS = {
  'settings.oidc': (draft, fill) => <OidcDiscover url={draft.OidcWellKnown} fill={fill} />,
};

const GROUPS = [
  ['settings.general', [{ key: 'ServerAddress', hint: 'settings.server_address_hint' }]],
  ['settings.login', [
    { key: 'PasswordLoginEnabled', kind: 'switch' }, { key: 'PasswordRegisterEnabled', kind: 'switch' },
    { key: 'EmailVerificationEnabled', kind: 'switch' }, { key: 'GitHubOAuthEnabled', kind: 'switch' },
    { key: 'OidcEnabled', kind: 'switch' }, { key: 'WeChatAuthEnabled', kind: 'switch' },
    { key: 'RegisterEnabled', kind: 'switch' }, { key: 'TurnstileCheckEnabled', kind: 'switch' },
  ]],
  ['settings.email_domain', [
    { key: 'EmailDomainRestrictionEnabled', kind: 'switch' }, { key: 'EmailDomainWhitelist', hint: 'settings.whitelist_hint' },
  ]],
  ['settings.smtp', [
    { key: 'SMTPServer' }, { key: 'SMTPPort', kind: 'number' }, { key: 'SMTPAccount' }, { key: 'SMTPFrom' },
    { key: 'SMTPToken', kind: 'secret' },
  ]],
  ['settings.github', [{ key: 'GitHubClientId' }, { key: 'GitHubClientSecret', kind: 'secret' }]],
  ['settings.oidc', [
    { key: 'OidcClientId' }, { key: 'OidcClientSecret', kind: 'secret' }, { key: 'OidcWellKnown' },
    { key: 'OidcAuthorizationEndpoint' }, { key: 'OidcTokenEndpoint' }, { key: 'OidcUserinfoEndpoint' },
  ]],
  ['settings.lark', [{ key: 'LarkClientId' }, { key: 'LarkClientSecret', kind: 'secret' }]],
  ['settings.wechat', [
    { key: 'WeChatServerAddress' }, { key: 'WeChatServerToken', kind: 'secret' }, { key: 'WeChatAccountQRCodeImageURL' },
  ]],
  ['settings.message_pusher', [{ key: 'MessagePusherAddress' }, { key: 'MessagePusherToken', kind: 'secret' }]],
  ['settings.turnstile', [{ key: 'TurnstileSiteKey' }, { key: 'TurnstileSecretKey', kind: 'secret' }]],
];

/** Server address, sign-in switches, SMTP, OAuth apps, Turnstile. */
export function System({ options, save }) {
  return (
    <div class="stack">
      {GROUPS.map(([title, fields]) => <OptionGroup key={title} title={t(title)} fields={fields} options={options} save={save} tools={TOOLS[title]} />)}
    </div>
  );
}
