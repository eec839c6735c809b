import { useState } from 'preact/hooks';
import { confirmDialog } from '../components/dialogs.jsx';
import { Link } from '../components/Link.jsx';
import { attempt, toast } from '../components/toast.js';
import { Card, Pager, SearchBar, Table, Tag } from '../components/ui.jsx';
import { api } from '../lib/api.js';
import { usePagedList } from '../lib/pagedList.js';
import { copy } from '../lib/clipboard.js';
import { renderQuota, renderTime } from '../lib/format.js';
import { t } from '../lib/i18n.js';
import { navigate } from '../lib/router.js';
import { CopyAs } from './CopyAs.jsx';

const STATUS = { 1: ['green', 'status.enabled'], 2: ['red', 'status.disabled'], 3: ['yellow', 'status.expired'], 4: ['grey', 'status.exhausted'] };
const ORDERS = ['', 'remain_quota', 'used_quota'];

export function Tokens() {
  const [copyAs, setCopyAs] = useState(null);
  const [shown, setShown] = useState({});

  const { rows, setRows, page, order, setOrder, keyword, setKeyword, searching, load, search, reload } = usePagedList('/api/token/');

  const setStatus = async (row, status) => {
    const data = await attempt(() => api('PUT', '/api/token/?status_only=true', { id: row.id, status }));
    if (data) setRows((list) => list.map((r) => (r.id === row.id ? { ...r, status: data.status } : r)));
  };
  const remove = async (row) => {
    if (!(await confirmDialog(t('token.confirm_delete', { name: row.name })))) return;
    if ((await attempt(() => api('DELETE', `/api/token/${row.id}`).then(() => true)))) {
      toast.success(t('common.deleted'));
      reload();
    }
  };

  const statusTag = (s) => {
    const [color, key] = STATUS[s] || ['grey', 'status.unknown'];
    return <Tag color={color}>{t(key)}</Tag>;
  };
  const masked = (key) => `sk-${key.slice(0, 4)}…${key.slice(-4)}`;

  const columns = [
    { title: t('common.name'), key: 'name' },
    { title: t('common.status'), render: (r) => statusTag(r.status) },
    {
      title: t('token.key'),
      render: (r) => (
        <span class="mono token-key">
          {shown[r.id] ? `sk-${r.key}` : masked(r.key)}
          <button class="link" onClick={() => setShown({ ...shown, [r.id]: !shown[r.id] })}>
            {shown[r.id] ? t('token.hide') : t('token.show')}
          </button>
        </span>
      ),
    },
    { title: t('token.used_quota'), render: (r) => (r.unlimited_quota ? '-' : renderQuota(r.used_quota)) },
    { title: t('token.remain_quota'), render: (r) => (r.unlimited_quota ? <Tag color="blue">{t('token.unlimited')}</Tag> : renderQuota(r.remain_quota)) },
    { title: t('common.created'), render: (r) => renderTime(r.created_time) },
    { title: t('token.expires'), render: (r) => (r.expired_time === -1 ? t('token.never') : renderTime(r.expired_time)) },
    {
      title: t('common.actions'),
      class: 'actions-cell',
      render: (r) => (
        <div class="actions">
          <button class="primary" onClick={() => copy(`sk-${r.key}`, t('token.key'))}>{t('common.copy')}</button>
          <button onClick={() => setCopyAs(r)}>{t('token.copy_as')}</button>
          {r.status === 1
            ? <button onClick={() => setStatus(r, 2)}>{t('common.disable')}</button>
            : <button onClick={() => setStatus(r, 1)}>{t('common.enable')}</button>}
          <Link class="button" href={`/token/edit/${r.id}`}>{t('common.edit')}</Link>
          <button class="danger" onClick={() => remove(r)}>{t('common.delete')}</button>
        </div>
      ),
    },
  ];

  return (
    <Card title={t('nav.tokens')} actions={<>
      <button class="primary" onClick={() => navigate('/token/add')}>{t('token.add')}</button>
      <select aria-label={t('common.order')} value={order} onChange={(e) => { setOrder(e.currentTarget.value); load(0, e.currentTarget.value); }}>
        {ORDERS.map((o) => <option key={o} value={o}>{t(`token.order_${o || 'id'}`)}</option>)}
      </select>
      <button onClick={reload}>{t('common.refresh')}</button>
    </>}>
      <SearchBar value={keyword} onInput={setKeyword} onSearch={search} placeholder={t('token.search')} />
      <Table columns={columns} rows={rows} />
      {!searching && <Pager page={page} rows={rows.length} onPage={(p) => load(p)} />}
      {copyAs && <CopyAs token={copyAs} onClose={() => setCopyAs(null)} />}
    </Card>
  );
}
