import { useState } from 'preact/hooks';
import { attempt, toast } from '../components/toast.js';
import { Card, Field } from '../components/ui.jsx';
import { api } from '../lib/api.js';
import { copy } from '../lib/clipboard.js';
import { quotaHint } from '../lib/format.js';
import { t } from '../lib/i18n.js';
import { navigate } from '../lib/router.js';

/** Generate n codes at once; the new codes are listed for copying. */
export function RedemptionAdd() {
  const [form, setForm] = useState({ name: '', quota: 100000, count: 1 });
  const [codes, setCodes] = useState(null);
  const set = (k) => (e) => setForm({ ...form, [k]: e.currentTarget.value });

  const submit = async (e) => {
    e.preventDefault();
    const count = Number(form.count);
    const quota = Number(form.quota);
    if (!form.name.trim()) return toast.error(t('redemption.name_missing'));
    if (!Number.isInteger(count) || count < 1 || count > 100) return toast.error(t('redemption.bad_count'));
    if (!Number.isInteger(quota) || quota < 0) return toast.error(t('token.bad_quota'));
    const data = await attempt(() => api('POST', '/api/redemption/', { name: form.name.trim(), quota, count }));
    if (data) {
      setCodes(data);
      toast.success(t('redemption.generated', { n: data.length }));
    }
  };

  if (codes) {
    return (
      <Card title={t('redemption.generated', { n: codes.length })} actions={<>
        <button class="primary" onClick={() => copy(codes.join('\n'), t('redemption.codes'))}>{t('redemption.copy_all')}</button>
        <button onClick={() => navigate('/redemption')}>{t('common.back')}</button>
      </>}>
        <textarea class="mono codes" readOnly rows={Math.min(15, codes.length + 1)} value={codes.join('\n')} aria-label={t('redemption.codes')} />
      </Card>
    );
  }
  return (
    <Card title={t('redemption.add')}>
      <form class="form grid" onSubmit={submit}>
        <Field label={t('common.name')}><input name="name" maxLength={20} value={form.name} onInput={set('name')} /></Field>
        <Field label={t('redemption.quota')} hint={quotaHint(form.quota)}>
          <input name="quota" type="number" min="0" value={form.quota} onInput={set('quota')} />
        </Field>
        <Field label={t('redemption.count')} hint={t('redemption.count_hint')}>
          <input name="count" type="number" min="1" max="100" value={form.count} onInput={set('count')} />
        </Field>
        <div class="form-actions wide">
          <button type="button" onClick={() => navigate('/redemption')}>{t('common.cancel')}</button>
          <button type="submit" class="primary">{t('common.submit')}</button>
        </div>
      </form>
    </Card>
  );
}
