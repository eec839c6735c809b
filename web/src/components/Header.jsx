import { api } from '../lib/api.js';
import { language, setLanguage, t } from '../lib/i18n.js';
import { navigate, useRoute } from '../lib/router.js';
import { isAdmin, setUser, status, user } from '../lib/session.js';
import { useStore } from '../lib/store.js';
import { setTheme, theme, THEMES } from '../lib/theme.js';
import { Link } from './Link.jsx';
import { attempt } from './toast.js';

/** Navigation entries; `need` is the least role that sees it (0 = everyone). */
const NAV = [
  { href: '/', key: 'nav.home', need: 0 },
  { href: '/channel', key: 'nav.channels', need: 10 },
  { href: '/token', key: 'nav.tokens', need: 1 },
  { href: '/redemption', key: 'nav.redemptions', need: 10 },
  { href: '/topup', key: 'nav.topup', need: 1 },
  { href: '/user', key: 'nav.users', need: 10 },
  { href: '/dashboard', key: 'nav.dashboard', need: 1 },
  { href: '/log', key: 'nav.logs', need: 1 },
  { href: '/setting', key: 'nav.settings', need: 1 },
  { href: '/about', key: 'nav.about', need: 0 },
];

export function Header() {
  const me = useStore(user);
  const st = useStore(status);
  const lang = useStore(language);
  const th = useStore(theme);
  const { path } = useRoute();
  const role = me ? me.role : 0;
  const active = (href) => (href === '/' ? path === '/' : path === href || path.startsWith(`${href}/`));

  const logout = async () => {
    await attempt(() => api('GET', '/api/user/logout'));
    setUser(null);
    navigate('/login');
  };

  return (
    <header class="topbar">
      <Link href="/" class="brand">
        <img src={st.logo || '/favicon.svg'} alt="" width="28" height="28" />
        <span>{st.system_name || 'One API'}</span>
      </Link>
      <nav aria-label={t('nav.main')}>
        {NAV.filter((n) => role >= n.need).map((n) => (
          <Link key={n.href} href={n.href} class={active(n.href) ? 'active' : ''}>{t(n.key)}</Link>
        ))}
        {me && st.chat_link && <Link href="/chat" class={active('/chat') ? 'active' : ''}>{t('nav.chat')}</Link>}
      </nav>
      <div class="topbar-tools">
        <select aria-label={t('header.language')} value={lang} onChange={(e) => setLanguage(e.currentTarget.value)}>
          <option value="zh">中文</option>
          <option value="en">English</option>
        </select>
        <select aria-label={t('header.theme')} value={th} onChange={(e) => setTheme(e.currentTarget.value)}>
          {THEMES.map((name) => <option key={name} value={name}>{t(`theme.${name}`)}</option>)}
        </select>
        {me ? (
          <>
            <span class="whoami" title={isAdmin(me) ? t('role.admin') : t('role.common')}>{me.display_name || me.username}</span>
            <button onClick={logout}>{t('header.logout')}</button>
          </>
        ) : (
          <Link href="/login" class="button primary">{t('header.login')}</Link>
        )}
      </div>
    </header>
  );
}
