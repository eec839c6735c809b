import { useEffect } from 'preact/hooks';
import { Dialogs } from './components/dialogs.jsx';
import { Footer } from './components/Footer.jsx';
import { Header } from './components/Header.jsx';
import { Link } from './components/Link.jsx';
import { Toasts } from './components/Toasts.jsx';
import { toast } from './components/toast.js';
import { language, t } from './lib/i18n.js';
import { match, navigate, useRoute } from './lib/router.js';
import { loadStatus, refreshSelf, user } from './lib/session.js';
import { useStore } from './lib/store.js';
import { ROUTES } from './routes.js';

function NotFound() {
  return <div class="card center"><h2>{t('page.not_found')}</h2><Link href="/">{t('nav.home')}</Link></div>;
}

function Forbidden() {
  return <div class="card center" data-testid="forbidden"><h2>{t('page.forbidden')}</h2><p>{t('page.forbidden_hint')}</p></div>;
}

function Outlet() {
  const { path } = useRoute();
  const me = useStore(user);
  for (const r of ROUTES) {
    const params = match(r.path, path);
    if (!params) continue;
    if (r.need > 0 && !me) {
      queueMicrotask(() => navigate(`/login?next=${encodeURIComponent(path + location.search)}`, { replace: true }));
      return null;
    }
    if (r.need > 0 && me.role < r.need) return <Forbidden />;
    const Page = r.page;
    return <Page key={r.path + JSON.stringify(params)} params={params} />;
  }
  return <NotFound />;
}

export function App() {
  useStore(language); // every text re-renders when the language changes
  useEffect(() => {
    loadStatus().catch((err) => toast.error(err.message));
    refreshSelf();
  }, []);
  return (
    <div class="shell">
      <Header />
      <main class="content"><Outlet /></main>
      <Footer />
      <Toasts />
      <Dialogs />
    </div>
  );
}
