import { t } from '../../lib/i18n.js';
import { OptionGroup } from './OptionGroup.jsx';

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
      {GROUPS.map(([title, fields]) => <OptionGroup key={title} title={t(title)} fields={fields} options={options} save={save} />)}
    </div>
  );
}
