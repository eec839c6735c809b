import { useEffect, useState } from 'preact/hooks';
import { ListPicker } from '../../components/ListPicker.jsx';
import { attempt, toast } from '../../components/toast.js';
import { Card, Field, Loading, Switch } from '../../components/ui.jsx';
import { api, get } from '../../lib/api.js';
import { composedKey, localText, useChannelTypes } from '../../lib/channelTypes.js';
import { splitList } from '../../lib/format.js';
import { t } from '../../lib/i18n.js';
import { navigate } from '../../lib/router.js';
import { TypeFields } from './TypeFields.jsx';
import { mappingError } from './mapping.js';

const EMPTY = { name: '', type: 1, key: '', base_url: '', other: '', model_mapping: '', system_prompt: '', models: [], groups: ['default'] };
const MAPPING_EXAMPLE = '{\n  "gpt-3.5-turbo-0301": "gpt-3.5-turbo"\n}';

export function ChannelEdit({ params }) {
  const editing = !!params.id;
  const [form, setForm] = useState(editing ? null : EMPTY);
  const [config, setConfig] = useState({});
  const [batch, setBatch] = useState(false);
  const [typeModels, setTypeModels] = useState({});
  const [allModels, setAllModels] = useState([]);
  const [groups, setGroups] = useState([]);
  const [saving, setSaving] = useState(false);
  const types = useChannelTypes();

  useEffect(() => {
    attempt(() => get('/api/models').then((m) => {
      setTypeModels(m || {});
      // A new channel starts with the default type's models.
      if (!editing) setForm((f) => (f.models.length ? f : { ...f, models: [...((m || {})[String(f.type)] || [])] }));
    }));
    attempt(() => get('/api/group/').then((g) => setGroups(g || [])));
    fetch('/api/channel/models', { credentials: 'same-origin' })
      .then((r) => r.json())
      .then((body) => setAllModels([...new Set((body.data || []).map((m) => m.id))]))
      .catch(() => {});
    if (editing) {
      attempt(() => get(`/api/channel/${params.id}`).then((c) => {
        setForm({
          name: c.name, type: c.type, key: '', base_url: c.base_url || '', other: c.other || '',
          model_mapping: c.model_mapping || '', system_prompt: c.system_prompt || '',
          models: splitList(c.models), groups: splitList(c.group),
        });
        try { setConfig(c.config ? JSON.parse(c.config) : {}); } catch { setConfig({}); }
      }));
    }
  }, []);

  if (!form || !types) return <Loading />;
  const set = (k, v) => setForm({ ...form, [k]: v });
  const modelsOf = (type) => typeModels[String(type)] || [];
  const spec = types.find((x) => x.id === form.type) || { fields: [], key_from_fields: [] };
  const mapErr = mappingError(form.model_mapping);

  const changeType = (type) => {
    // Adding: a new type starts from its own model list, as One API's console does.
    setForm({ ...form, type, models: editing ? form.models : [...modelsOf(type)] });
    if (!editing) setConfig({});
  };

  const submit = async (e) => {
    e.preventDefault();
    const key = form.key.trim() || composedKey(spec, config);
    if (!form.name.trim()) return toast.error(t('channel.name_missing'));
    if (!editing && !key) return toast.error(t('channel.key_missing'));
    if (spec.base_url_required && !form.base_url.trim()) return toast.error(t('channel.base_url_missing'));
    if (form.models.length === 0) return toast.error(t('channel.models_missing'));
    if (mapErr) return toast.error(mapErr);
    // A field left empty stores its declared default (Azure's api-version).
    const defaults = Object.fromEntries(spec.fields.filter((f) => f.default).map((f) => [f.name, f.default]));
    const withDefaults = { ...config };
    for (const [name, value] of Object.entries(defaults)) {
      if (name.startsWith('config.') && !withDefaults[name.slice(7)]) withDefaults[name.slice(7)] = value;
    }
    const cleanConfig = Object.fromEntries(Object.entries(withDefaults).filter(([, v]) => v));
    const body = {
      name: form.name.trim(),
      type: form.type,
      base_url: form.base_url.trim().replace(/\/+$/, ''),
      other: form.other || defaults.other || '',
      model_mapping: form.model_mapping.trim(),
      system_prompt: form.system_prompt,
      models: form.models.join(','),
      group: (form.groups.length ? form.groups : ['default']).join(','),
      config: JSON.stringify(cleanConfig),
    };
    if (key) body.key = batch ? key : key.replace(/\n/g, '');
    if (editing) body.id = Number(params.id);
    setSaving(true);
    const ok = await attempt(() => api(editing ? 'PUT' : 'POST', '/api/channel/', body).then(() => true));
    setSaving(false);
    if (ok) {
      toast.success(editing ? t('common.saved') : t('channel.created'));
      navigate('/channel');
    }
  };

  return (
    <Card title={editing ? t('channel.edit') : t('channel.add')}>
      <form class="form grid" onSubmit={submit}>
        <Field label={t('channel.type')}>
          <select name="type" value={form.type} onChange={(e) => changeType(Number(e.currentTarget.value))}>
            {types.map((ct) => <option key={ct.id} value={ct.id}>{localText(ct.label)}</option>)}
          </select>
        </Field>
        <Field label={t('common.name')}>
          <input name="name" value={form.name} onInput={(e) => set('name', e.currentTarget.value)} />
        </Field>
        <Field label={t('channel.base_url')} hint={spec.base_url_required ? t('channel.base_url_required') : t('channel.base_url_hint')} wide>
          <input name="base_url" value={form.base_url} placeholder={spec.base_url || ''}
            onInput={(e) => set('base_url', e.currentTarget.value)} />
        </Field>
        <TypeFields spec={spec} form={form} config={config} setForm={set} setConfig={setConfig} />
        <Field label={t('channel.key')} wide
          hint={editing ? t('channel.key_keep') : batch ? t('channel.batch_hint') : localText(spec.key_format) || t('channel.key_hint_default')}>
          {batch
            ? <textarea name="key" rows={5} value={form.key} onInput={(e) => set('key', e.currentTarget.value)} />
            : <input name="key" type="password" autoComplete="off" value={form.key} onInput={(e) => set('key', e.currentTarget.value)} />}
        </Field>
        {!editing && <Switch checked={batch} onChange={setBatch} label={t('channel.batch')} />}
        <Field label={t('channel.groups')} wide>
          <ListPicker label="groups" value={form.groups} onChange={(v) => set('groups', v)} suggestions={groups}
            placeholder={t('channel.group_placeholder')} />
        </Field>
        <Field label={t('channel.models')} wide hint={spec.models_hint ? localText(spec.models_hint) : t('channel.models_hint')}>
          <ListPicker label="models" value={form.models} onChange={(v) => set('models', v)} suggestions={allModels}
            placeholder={t('channel.model_placeholder')} />
          <div class="row">
            <button type="button" onClick={() => set('models', [...new Set([...form.models, ...modelsOf(form.type)])])}>{t('channel.fill_type_models')}</button>
            <button type="button" onClick={() => set('models', [...new Set([...form.models, ...allModels])])}>{t('channel.fill_all_models')}</button>
            <button type="button" onClick={() => set('models', [])}>{t('channel.clear_models')}</button>
          </div>
        </Field>
        <Field label={t('channel.model_mapping')} hint={t('channel.mapping_hint')} error={mapErr} wide>
          <textarea name="model_mapping" rows={4} class="mono" placeholder={MAPPING_EXAMPLE} value={form.model_mapping}
            onInput={(e) => set('model_mapping', e.currentTarget.value)} />
        </Field>
        <Field label={t('channel.system_prompt')} hint={t('channel.system_prompt_hint')} wide>
          <textarea name="system_prompt" rows={3} value={form.system_prompt} onInput={(e) => set('system_prompt', e.currentTarget.value)} />
        </Field>
        <div class="form-actions wide">
          <button type="button" onClick={() => navigate('/channel')}>{t('common.cancel')}</button>
          <button type="submit" class="primary" disabled={saving || !!mapErr}>{t('common.submit')}</button>
        </div>
      </form>
    </Card>
  );
}
