import { confirmDialog } from '../components/dialogs.jsx';
import { attempt, toast } from '../components/toast.js';
import { Card, Pager, SearchBar, Table, Tag } from '../components/ui.jsx';
import { api } from '../lib/api.js';
import { usePagedList } from '../lib/pagedList.js';
import { copy } from '../lib/clipboard.js';
import { renderQuota, renderTime } from '../lib/format.js';
import { t } from '../lib/i18n.js';
import { navigate } from '../lib/router.js';

const STATUS = { 1: ['green', 'status.unused'], 2: ['red', 'status.disabled'], 3: ['grey', 'status.used'] };

export function Redemptions() {

  const { rows, setRows, page, keyword, setKeyword, searching, load, search, reload } = usePagedList('/api/redemption/');

  const setStatus = async (row, status) => {
    const data = await attempt(() => api('PUT', '/api/redemption/?status_only=true', { id: row.id, status }));
    if (data) setRows((list) => list.map((r) => (r.id === row.id ? { ...r, status: data.status } : r)));
  };
  const remove = async (row) => {
    if (!(await confirmDialog(t('redemption.confirm_delete', { name: row.name })))) return;
    if ((await attempt(() => api('DELETE', `/api/redemption/${row.id}`).then(() => true)))) {
      toast.success(t('common.deleted'));
      reload();
    }
  };

  const columns = [
    { title: t('common.id'), key: 'id' },
    { title: t('common.name'), key: 'name' },
    { title: t('common.status'), render: (r) => { const [c, k] = STATUS[r.status] || ['grey', 'status.unknown']; return <Tag color={c}>{t(k)}</Tag>; } },
    { title: t('redemption.quota'), render: (r) => renderQuota(r.quota) },
    { title: t('common.created'), render: (r) => renderTime(r.created_time) },
    { title: t('redemption.redeemed'), render: (r) => renderTime(r.redeemed_time) },
    {
      title: t('common.actions'),
      class: 'actions-cell',
      render: (r) => (
        <div class="actions">
          <button onClick={() => copy(r.key, t('redemption.code'))}>{t('common.copy')}</button>
          {r.status === 1 && <button onClick={() => setStatus(r, 2)}>{t('common.disable')}</button>}
          {r.status === 2 && <button onClick={() => setStatus(r, 1)}>{t('common.enable')}</button>}
          <button class="danger" onClick={() => remove(r)}>{t('common.delete')}</button>
        </div>
      ),
    },
  ];

  return (
    <Card title={t('nav.redemptions')} actions={<>
      <button class="primary" onClick={() => navigate('/redemption/add')}>{t('redemption.add')}</button>
      <button onClick={reload}>{t('common.refresh')}</button>
    </>}>
      <SearchBar value={keyword} onInput={setKeyword} onSearch={search} placeholder={t('redemption.search')} />
      <Table columns={columns} rows={rows} />
      {!searching && <Pager page={page} rows={rows.length} onPage={load} />}
    </Card>
  );
}
