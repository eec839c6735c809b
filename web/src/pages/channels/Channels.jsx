import { useState } from 'preact/hooks';
import { confirmDialog } from '../../components/dialogs.jsx';
import { Link } from '../../components/Link.jsx';
import { attempt, toast } from '../../components/toast.js';
import { Card, Pager, SearchBar, Table, Tag } from '../../components/ui.jsx';
import { api, query, request } from '../../lib/api.js';
import { usePagedList } from '../../lib/pagedList.js';
import { typeLabel, useChannelTypes } from '../../lib/channelTypes.js';
import { renderQuota, renderTime } from '../../lib/format.js';
import { t } from '../../lib/i18n.js';
import { navigate } from '../../lib/router.js';
import { ChannelNumber } from './ChannelNumber.jsx';

const STATUS = { 1: ['green', 'status.enabled'], 2: ['red', 'status.disabled'], 3: ['yellow', 'status.auto_disabled'] };

function statusTag(s) {
  const [color, key] = STATUS[s] || ['grey', 'status.unknown'];
  return <Tag color={color}>{t(key)}</Tag>;
}

function responseTag(ms) {
  if (!ms) return <Tag>{t('channel.untested')}</Tag>;
  const color = ms <= 1000 ? 'green' : ms <= 3000 ? 'olive' : ms <= 5000 ? 'yellow' : 'red';
  return <Tag color={color}>{t('channel.seconds', { s: (ms / 1000).toFixed(2) })}</Tag>;
}

export function Channels() {
  const [busy, setBusy] = useState({});
  const types = useChannelTypes();

  const { rows, setRows, page, keyword, setKeyword, searching, load, search, reload } = usePagedList('/api/channel/');
  const patchRow = (id, patch) => setRows((list) => list.map((r) => (r.id === id ? { ...r, ...patch } : r)));
  const mark = (id, on) => setBusy((b) => ({ ...b, [id]: on }));

  const test = async (row) => {
    mark(row.id, true);
    try {
      const res = await request('GET', `/api/channel/test/${row.id}`);
      patchRow(row.id, { response_time: Math.round(res.time * 1000), test_time: Math.floor(Date.now() / 1000) });
      toast.success(t('channel.test_ok', { name: row.name, s: res.time.toFixed(2) }));
    } catch (err) {
      toast.error(t('channel.test_failed', { name: row.name, error: err.message }));
    }
    mark(row.id, false);
  };

  const balance = async (row) => {
    const res = await attempt(() => request('GET', `/api/channel/update_balance/${row.id}`));
    if (res) {
      patchRow(row.id, { balance: res.balance, balance_updated_time: Math.floor(Date.now() / 1000) });
      toast.success(t('channel.balance_ok', { name: row.name, balance: res.balance }));
    }
  };

  const setStatus = async (row, status) => {
    const data = await attempt(() => api('PUT', '/api/channel/', { id: row.id, status }));
    if (data !== undefined) patchRow(row.id, { status });
  };

  const remove = async (row) => {
    if (!(await confirmDialog(t('channel.confirm_delete', { name: row.name })))) return;
    if ((await attempt(() => api('DELETE', `/api/channel/${row.id}`).then(() => true)))) {
      toast.success(t('common.deleted'));
      reload();
    }
  };

  const testAll = async (scope) => {
    if ((await attempt(() => api('GET', `/api/channel/test${query({ scope })}`).then(() => true)))) toast.info(t('channel.test_all_started'));
  };
  const updateAllBalances = async () => {
    if ((await attempt(() => api('GET', '/api/channel/update_balance').then(() => true)))) toast.info(t('channel.balance_all_started'));
  };
  const deleteDisabled = async () => {
    if (!(await confirmDialog(t('channel.confirm_delete_disabled')))) return;
    const n = await attempt(() => api('DELETE', '/api/channel/disabled'));
    if (n !== undefined) {
      toast.success(t('channel.deleted_disabled', { n }));
      reload();
    }
  };

  const columns = [
    { title: t('common.id'), key: 'id' },
    { title: t('common.name'), render: (r) => <span title={r.base_url || ''}>{r.name}</span> },
    { title: t('channel.group'), render: (r) => (r.group || '').split(',').map((g) => <Tag key={g}>{g}</Tag>) },
    { title: t('channel.type'), render: (r) => typeLabel(types, r.type) },
    { title: t('common.status'), render: (r) => statusTag(r.status) },
    {
      title: t('channel.response_time'),
      render: (r) => <span title={t('channel.tested_at', { time: renderTime(r.test_time) })}>{responseTag(r.response_time)}</span>,
    },
    {
      title: t('channel.balance'),
      render: (r) => (
        <button class="link" title={t('channel.update_balance')} onClick={() => balance(r)}>
          {r.balance_updated_time ? `${r.type === 36 ? '¥' : '$'}${Number(r.balance || 0).toFixed(2)}` : t('channel.balance_unknown')}
        </button>
      ),
    },
    { title: t('channel.used_quota'), render: (r) => renderQuota(r.used_quota) },
    { title: t('channel.priority'), render: (r) => <ChannelNumber row={r} field="priority" onSaved={patchRow} /> },
    { title: t('channel.weight'), render: (r) => <ChannelNumber row={r} field="weight" onSaved={patchRow} /> },
    {
      title: t('common.actions'),
      class: 'actions-cell',
      render: (r) => (
        <div class="actions">
          <button onClick={() => test(r)} disabled={busy[r.id]}>{t('channel.test')}</button>
          {r.status === 1
            ? <button onClick={() => setStatus(r, 2)}>{t('common.disable')}</button>
            : <button onClick={() => setStatus(r, 1)}>{t('common.enable')}</button>}
          <Link class="button" href={`/channel/edit/${r.id}`}>{t('common.edit')}</Link>
          <button class="danger" onClick={() => remove(r)}>{t('common.delete')}</button>
        </div>
      ),
    },
  ];

  return (
    <Card title={t('nav.channels')} actions={<>
      <button class="primary" onClick={() => navigate('/channel/add')}>{t('channel.add')}</button>
      <button onClick={() => testAll('all')}>{t('channel.test_all')}</button>
      <button onClick={() => testAll('disabled')}>{t('channel.test_disabled')}</button>
      <button onClick={updateAllBalances}>{t('channel.update_all_balances')}</button>
      <button class="danger" onClick={deleteDisabled}>{t('channel.delete_disabled')}</button>
      <button onClick={reload}>{t('common.refresh')}</button>
    </>}>
      <SearchBar value={keyword} onInput={setKeyword} onSearch={search} placeholder={t('channel.search')} />
      <Table columns={columns} rows={rows} />
      {!searching && <Pager page={page} rows={rows.length} onPage={load} />}
    </Card>
  );
}
