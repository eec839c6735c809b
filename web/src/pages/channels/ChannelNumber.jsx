import { useEffect, useState } from 'preact/hooks';
import { attempt, toast } from '../../components/toast.js';
import { api } from '../../lib/api.js';
import { t } from '../../lib/i18n.js';

/** Priority or weight edited in place; saved with PUT {id, field} when it loses focus. */
export function ChannelNumber({ row, field, onSaved }) {
  const [value, setValue] = useState(String(row[field] ?? 0));
  useEffect(() => setValue(String(row[field] ?? 0)), [row[field]]);
  const save = async () => {
    const n = Number(value);
    if (!Number.isInteger(n) || (field === 'weight' && n < 0)) {
      toast.error(t('channel.bad_number'));
      return setValue(String(row[field] ?? 0));
    }
    if (n === row[field]) return;
    const ok = await attempt(() => api('PUT', '/api/channel/', { id: row.id, [field]: n }).then(() => true));
    if (ok) {
      onSaved(row.id, { [field]: n });
      toast.success(t('common.saved'));
    }
  };
  return (
    <input class="narrow" type="number" aria-label={t(`channel.${field}`)} value={value}
      onInput={(e) => setValue(e.currentTarget.value)} onBlur={save}
      onKeyDown={(e) => e.key === 'Enter' && e.currentTarget.blur()} />
  );
}
