import { useEffect, useState } from 'preact/hooks';
import { LimitFields, limitBody, limitsOf } from '../components/LimitFields.jsx';
import { ListPicker } from '../components/ListPicker.jsx';
import { attempt, toast } from '../components/toast.js';
import { Card, Field, Loading, Switch } from '../components/ui.jsx';
import { api, get } from '../lib/api.js';
import { fromLocalInput, quotaHint, splitList, toLocalInput } from '../lib/format.js';
import { t } from '../lib/i18n.js';
import { navigate } from '../lib/router.js';

const NEW = { name: '', expired_time: -1, remain_quota: 500000, unlimited_quota: false, models: [], subnet: '', ...limitsOf() };
const QUICK = [['never', 0], ['month', 30 * 86400], ['day', 86400], ['hour', 3600], ['minute', 60]];

export function TokenEdit({ params }) {
  const editing = !!params.id;
  const [form, setForm] = useState(editing ? null : NEW);
  const [available, setAvailable] = useState([]);
  const [saving, setSaving] = useState(false);

  useEffect(() => {
    attempt(() => get('/api/user/available_models').then((m) => setAvailable(m || [])));
    if (editing) {
      attempt(() => get(`/api/token/${params.id}`).then((tk) => setForm({
        name: tk.name, expired_time: tk.expired_time, remain_quota: tk.remain_quota,
        unlimited_quota: tk.unlimited_quota, models: splitList(tk.models), subnet: tk.subnet || '', ...limitsOf(tk),
      })));
    }
  }, []);
  if (!form) return <Loading />;
  const set = (k, v) => setForm({ ...form, [k]: v });

  const expire = (seconds) => set('expired_time', seconds ? Math.floor(Date.now() / 1000) + seconds : -1);

  const submit = async (e) => {
    e.preventDefault();
    if (!form.name.trim()) return toast.error(t('token.name_missing'));
    const quota = Number(form.remain_quota);
    if (!form.unlimited_quota && (!Number.isInteger(quota) || quota < 0)) return toast.error(t('token.bad_quota'));
    if (form.expired_time !== -1 && form.expired_time < Date.now() / 1000) return toast.error(t('token.expiry_past'));
    const limits = limitBody(form);
    if (!limits) return toast.error(t('limits.bad'));
    const body = {
      name: form.name.trim(),
      expired_time: form.expired_time,
      remain_quota: form.unlimited_quota ? 0 : quota,
      unlimited_quota: form.unlimited_quota,
      models: form.models.join(','),
      subnet: form.subnet.trim(),
      ...limits,
    };
    if (editing) body.id = Number(params.id);
    setSaving(true);
    const ok = await attempt(() => api(editing ? 'PUT' : 'POST', '/api/token/', body).then(() => true));
    setSaving(false);
    if (ok) {
      toast.success(editing ? t('common.saved') : t('token.created'));
      navigate('/token');
    }
  };

  return (
    <Card title={editing ? t('token.edit') : t('token.add')}>
      <form class="form grid" onSubmit={submit}>
        <Field label={t('common.name')} hint={t('token.name_hint')}>
          <input name="name" value={form.name} onInput={(e) => set('name', e.currentTarget.value)} />
        </Field>
        <Field label={t('token.expires')} hint={form.expired_time === -1 ? t('token.never') : undefined}>
          <input name="expired_time" type="datetime-local" value={toLocalInput(form.expired_time)}
            onInput={(e) => set('expired_time', fromLocalInput(e.currentTarget.value) || -1)} />
          <div class="row">
            {QUICK.map(([k, s]) => <button type="button" key={k} onClick={() => expire(s)}>{t(`token.expire_${k}`)}</button>)}
          </div>
        </Field>
        <Field label={t('token.remain_quota')} hint={form.unlimited_quota ? t('token.unlimited_hint') : quotaHint(form.remain_quota)}>
          <input name="remain_quota" type="number" min="0" disabled={form.unlimited_quota} value={form.remain_quota}
            onInput={(e) => set('remain_quota', e.currentTarget.value)} />
        </Field>
        <Switch checked={form.unlimited_quota} onChange={(v) => set('unlimited_quota', v)} label={t('token.unlimited')} />
        <Field label={t('token.models')} hint={t('token.models_hint')} wide>
          <ListPicker label="token-models" value={form.models} onChange={(v) => set('models', v)} suggestions={available}
            placeholder={t('channel.model_placeholder')} />
        </Field>
        <Field label={t('token.subnet')} hint={t('token.subnet_hint')} wide>
          <input name="subnet" value={form.subnet} placeholder="192.168.0.0/24,10.0.0.0/8" onInput={(e) => set('subnet', e.currentTarget.value)} />
        </Field>
        <LimitFields form={form} set={set} />
        <div class="form-actions wide">
          <button type="button" onClick={() => navigate('/token')}>{t('common.cancel')}</button>
          <button type="submit" class="primary" disabled={saving}>{t('common.submit')}</button>
        </div>
      </form>
    </Card>
  );
}
