import { useEffect, useState } from 'preact/hooks';
import { toast } from '../../components/toast.js';
import { api, get } from '../../lib/api.js';
import { t } from '../../lib/i18n.js';
import { loadStatus } from '../../lib/session.js';

/** The option map (GET /api/option/) and a saver that PUTs one key at a time. */
export function useOptions() {
  const [options, setOptions] = useState(null);
  const [error, setError] = useState('');
  useEffect(() => {
    get('/api/option/')
      .then((list) => setOptions(Object.fromEntries((list || []).map((o) => [o.key, o.value]))))
      .catch((e) => setError(e.message));
  }, []);

  /** Save each {key: value}; returns true when all were accepted. Errors are shown per key. */
  const save = async (changes) => {
    let ok = true;
    for (const [key, value] of Object.entries(changes)) {
      try {
        await api('PUT', '/api/option/', { key, value: String(value) });
        setOptions((o) => ({ ...o, [key]: String(value) }));
      } catch (err) {
        ok = false;
        toast.error(`${key}: ${err.message}`);
      }
    }
    if (ok && Object.keys(changes).length) toast.success(t('common.saved'));
    loadStatus().catch(() => {});
    return ok;
  };
  return { options, error, save };
}
