import { useEffect, useState } from 'preact/hooks';
import { Link } from '../components/Link.jsx';
import { toast } from '../components/toast.js';
import { query, request } from '../lib/api.js';
import { t } from '../lib/i18n.js';
import { navigate, useQuery } from '../lib/router.js';
import { setUser } from '../lib/session.js';

/** The provider redirected here with ?code&state: log in, or bind when already logged in. */
export function OAuthCallback({ params }) {
  const q = useQuery();
  const [error, setError] = useState('');
  useEffect(() => {
    const path = `/api/oauth/${encodeURIComponent(params.provider)}${query({ code: q.get('code'), state: q.get('state') })}`;
    request('GET', path).then((res) => {
      if (res.message === 'bind') {
        toast.success(t('oauth.bound'));
        navigate('/setting', { replace: true });
      } else {
        setUser(res.data);
        toast.success(t('login.welcome', { name: res.data.display_name || res.data.username }));
        navigate('/', { replace: true });
      }
    }).catch((err) => setError(err.message));
  }, []);
  return (
    <div class="auth card">
      <h2>{t('oauth.title')}</h2>
      {error ? <><p class="field-error" role="alert">{error}</p><Link href="/login">{t('header.login')}</Link></> : <p>{t('common.loading')}</p>}
    </div>
  );
}
