import { useEffect, useState } from 'preact/hooks';
import { attempt } from '../components/toast.js';
import { Card, Field, Pager, Table, Tag } from '../components/ui.jsx';
import { get, query } from '../lib/api.js';
import { fromLocalInput, renderQuota, renderTime } from '../lib/format.js';
import { t } from '../lib/i18n.js';
import { isAdmin, user } from '../lib/session.js';
import { useStore } from '../lib/store.js';

const TYPES = [[0, 'all', 'grey'], [1, 'topup', 'teal'], [2, 'consume', 'green'], [3, 'manage', 'orange'], [4, 'system', 'purple'], [5, 'test', 'blue']];
const EMPTY = { type: 0, start: '', end: '', model_name: '', token_name: '', username: '', channel: '' };

function typeTag(type) {
  const found = TYPES.find(([id]) => id === type);
  return found ? <Tag color={found[2]}>{t(`log.type_${found[1]}`)}</Tag> : <Tag>{t('status.unknown')}</Tag>;
}

export function Logs() {
  const admin = isAdmin(useStore(user));
  const [filters, setFilters] = useState(EMPTY);
  const [rows, setRows] = useState([]);
  const [page, setPage] = useState(0);
  const [sum, setSum] = useState(null);
  const set = (k) => (e) => setFilters({ ...filters, [k]: e.currentTarget.value });

  const params = (f) => {
    const p = {
      type: Number(f.type) || undefined,
      start_timestamp: fromLocalInput(f.start) || undefined,
      end_timestamp: fromLocalInput(f.end) || undefined,
      model_name: f.model_name.trim(),
      token_name: f.token_name.trim(),
    };
    if (admin) Object.assign(p, { username: f.username.trim(), channel: f.channel.trim() });
    return p;
  };

  const load = async (p, f = filters) => {
    const base = admin ? '/api/log/' : '/api/log/self';
    const data = await attempt(() => get(base + query({ p, ...params(f) })));
    if (data) {
      setRows(data);
      setPage(p);
    }
  };
  const loadStat = async (f = filters) => {
    const data = await attempt(() => get((admin ? '/api/log/stat' : '/api/log/self/stat') + query(params(f))));
    if (data) setSum(data.quota);
  };
  const run = (f = filters) => {
    load(0, f);
    loadStat(f);
  };
  useEffect(() => { run(); }, []);

  const columns = [
    { title: t('log.time'), render: (r) => renderTime(r.created_at) },
    ...(admin ? [{ title: t('log.channel'), render: (r) => r.channel || '' }, { title: t('log.user'), key: 'username' }] : []),
    { title: t('log.token'), key: 'token_name' },
    { title: t('log.type'), render: (r) => typeTag(r.type) },
    { title: t('log.model'), render: (r) => (r.model_name ? <Tag color="blue">{r.model_name}</Tag> : '') },
    { title: t('log.prompt_tokens'), render: (r) => r.prompt_tokens || '' },
    { title: t('log.completion_tokens'), render: (r) => r.completion_tokens || '' },
    { title: t('log.quota'), render: (r) => (r.quota ? renderQuota(r.quota, 6) : '') },
    { title: t('log.elapsed'), render: (r) => (r.elapsed_time ? `${r.elapsed_time} ms${r.is_stream ? ` · ${t('log.stream')}` : ''}` : '') },
    { title: t('log.content'), class: 'wrap', key: 'content' },
  ];

  return (
    <Card title={t('nav.logs')} actions={sum !== null && <span class="stat" data-testid="quota-sum">{t('log.quota_sum', { quota: renderQuota(sum, 4) })}</span>}>
      <form class="filters" onSubmit={(e) => { e.preventDefault(); run(); }}>
        <Field label={t('log.type')}>
          <select name="type" value={filters.type} onChange={(e) => { const f = { ...filters, type: e.currentTarget.value }; setFilters(f); run(f); }}>
            {TYPES.map(([id, key]) => <option key={id} value={id}>{t(`log.type_${key}`)}</option>)}
          </select>
        </Field>
        <Field label={t('log.start')}><input name="start" type="datetime-local" value={filters.start} onInput={set('start')} /></Field>
        <Field label={t('log.end')}><input name="end" type="datetime-local" value={filters.end} onInput={set('end')} /></Field>
        <Field label={t('log.model')}><input name="model_name" value={filters.model_name} onInput={set('model_name')} /></Field>
        <Field label={t('log.token')}><input name="token_name" value={filters.token_name} onInput={set('token_name')} /></Field>
        {admin && <Field label={t('log.user')}><input name="username" value={filters.username} onInput={set('username')} /></Field>}
        {admin && <Field label={t('log.channel_id')}><input name="channel" type="number" value={filters.channel} onInput={set('channel')} /></Field>}
        <div class="form-actions">
          <button type="submit" class="primary">{t('common.query')}</button>
          <button type="button" onClick={() => { setFilters(EMPTY); run(EMPTY); }}>{t('common.reset')}</button>
        </div>
      </form>
      <Table columns={columns} rows={rows} />
      <Pager page={page} rows={rows.length} onPage={(p) => load(p)} />
    </Card>
  );
}
