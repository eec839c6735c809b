import { useEffect, useState } from 'preact/hooks';
import { LimitFields, limitBody } from '../components/LimitFields.jsx';
import { attempt, toast } from '../components/toast.js';
import { Card, Field, Loading } from '../components/ui.jsx';
import { api, get } from '../lib/api.js';
import { quotaHint } from '../lib/format.js';
import { t } from '../lib/i18n.js';
import { navigate } from '../lib/router.js';
import { isRoot, ROLE, user } from '../lib/session.js';
import { useStore } from '../lib/store.js';

const BOUND = ['email', 'github_id', 'wechat_id', 'lark_id', 'oidc_id'];

export function UserEdit({ params }) {
  const editing = !!params.id;
  const me = useStore(user);
  const [form, setForm] = useState(editing ? null : { username: '', display_name: '', password: '' });
  const [groups, setGroups] = useState([]);
  const [saving, setSaving] = useState(false);
  useEffect(() => {
    if (!editing) return;
    attempt(() => get('/api/group/').then((g) => setGroups(g || [])));
    attempt(() => get(`/api/user/${params.id}`).then((u) => setForm({ ...u, password: '' })));
  }, []);
  if (!form) return <Loading />;
  const set = (k) => (e) => setForm({ ...form, [k]: e.currentTarget.value });

  const submit = async (e) => {
    e.preventDefault();
    if (!form.username.trim()) return toast.error(t('user.username_missing'));
    if ((!editing || form.password) && (form.password.length < 8 || form.password.length > 20)) {
      return toast.error(t('register.password_hint'));
    }
    let body;
    if (editing) {
      const quota = Number(form.quota);
      if (!Number.isInteger(quota)) return toast.error(t('token.bad_quota'));
      const limits = limitBody(form);
      if (!limits) return toast.error(t('limits.bad'));
      body = {
        id: Number(params.id), username: form.username.trim(), display_name: form.display_name,
        password: form.password, group: form.group, quota, role: Number(form.role), ...limits,
      };
    } else {
      body = { username: form.username.trim(), display_name: form.display_name || form.username.trim(), password: form.password };
    }
    setSaving(true);
    const ok = await attempt(() => api(editing ? 'PUT' : 'POST', '/api/user/', body).then(() => true));
    setSaving(false);
    if (ok) {
      toast.success(editing ? t('common.saved') : t('user.created'));
      navigate('/user');
    }
  };

  return (
    <Card title={editing ? t('user.edit') : t('user.add')}>
      <form class="form grid" onSubmit={submit}>
        <Field label={t('login.username')} hint={t('register.username_hint')}>
          <input name="username" maxLength={12} value={form.username} onInput={set('username')} />
        </Field>
        <Field label={t('user.display_name')}>
          <input name="display_name" maxLength={20} value={form.display_name} onInput={set('display_name')} />
        </Field>
        <Field label={t('login.password')} hint={editing ? t('user.password_keep') : t('register.password_hint')}>
          <input name="password" type="password" autoComplete="new-password" value={form.password} onInput={set('password')} />
        </Field>
        {editing && (
          <>
            <Field label={t('user.group')}>
              <select name="group" value={form.group} onChange={set('group')}>
                {[...new Set([form.group, ...groups])].map((g) => <option key={g} value={g}>{g}</option>)}
              </select>
            </Field>
            <Field label={t('user.quota')} hint={quotaHint(form.quota)}>
              <input name="quota" type="number" value={form.quota} onInput={set('quota')} />
            </Field>
            <LimitFields form={form} set={(k, v) => setForm({ ...form, [k]: v })} />
            {isRoot(me) && form.role < ROLE.root && (
              <Field label={t('user.role')}>
                <select name="role" value={form.role} onChange={set('role')}>
                  <option value={ROLE.common}>{t('role.common')}</option>
                  <option value={ROLE.admin}>{t('role.admin')}</option>
                </select>
              </Field>
            )}
            {BOUND.map((k) => (
              <Field key={k} label={t(`user.bound_${k}`)} hint={t('user.bound_hint')}>
                <input value={form[k] || ''} readOnly />
              </Field>
            ))}
          </>
        )}
        <div class="form-actions wide">
          <button type="button" onClick={() => navigate('/user')}>{t('common.cancel')}</button>
          <button type="submit" class="primary" disabled={saving}>{t('common.submit')}</button>
        </div>
      </form>
    </Card>
  );
}
