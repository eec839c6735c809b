import { confirmDialog } from '../components/dialogs.jsx';
import { Link } from '../components/Link.jsx';
import { attempt, toast } from '../components/toast.js';
import { Card, Pager, SearchBar, Table, Tag } from '../components/ui.jsx';
import { api } from '../lib/api.js';
import { usePagedList } from '../lib/pagedList.js';
import { renderQuota } from '../lib/format.js';
import { t } from '../lib/i18n.js';
import { navigate } from '../lib/router.js';
import { isRoot, ROLE, user } from '../lib/session.js';
import { useStore } from '../lib/store.js';

const ORDERS = ['', 'quota', 'used_quota', 'request_count'];

export function roleTag(role) {
  if (role >= ROLE.root) return <Tag color="yellow">{t('role.root')}</Tag>;
  if (role >= ROLE.admin) return <Tag color="orange">{t('role.admin')}</Tag>;
  return <Tag>{t('role.common')}</Tag>;
}

function statusTag(s) {
  if (s === 1) return <Tag color="green">{t('status.enabled')}</Tag>;
  if (s === 2) return <Tag color="red">{t('status.banned')}</Tag>;
  return <Tag>{t('status.deleted')}</Tag>;
}

export function Users() {
  const me = useStore(user);

  const { rows, setRows, page, order, setOrder, keyword, setKeyword, searching, load, search, reload } = usePagedList('/api/user/');

  const manage = async (row, action) => {
    if (action === 'delete' && !(await confirmDialog(t('user.confirm_delete', { name: row.username })))) return;
    const data = await attempt(() => api('POST', '/api/user/manage', { username: row.username, action }));
    if (data === undefined) return;
    toast.success(t('common.done'));
    if (action === 'delete') reload();
    else setRows((list) => list.map((r) => (r.id === row.id ? { ...r, role: data.role, status: data.status } : r)));
  };

  const columns = [
    { title: t('common.id'), key: 'id' },
    { title: t('login.username'), render: (r) => <span title={r.display_name}>{r.username}</span> },
    { title: t('user.group'), render: (r) => <Tag>{r.group}</Tag> },
    {
      title: t('user.quota'),
      render: (r) => <span title={t('user.used', { quota: renderQuota(r.used_quota) })}>{renderQuota(r.quota)} / {renderQuota(r.used_quota)}</span>,
    },
    { title: t('user.requests'), key: 'request_count' },
    { title: t('user.role'), render: (r) => roleTag(r.role) },
    { title: t('common.status'), render: (r) => statusTag(r.status) },
    {
      title: t('common.actions'),
      class: 'actions-cell',
      render: (r) => (
        <div class="actions">
          {isRoot(me) && r.role < ROLE.admin && <button onClick={() => manage(r, 'promote')}>{t('user.promote')}</button>}
          {r.role === ROLE.admin && <button onClick={() => manage(r, 'demote')}>{t('user.demote')}</button>}
          {r.role < ROLE.root && (r.status === 1
            ? <button onClick={() => manage(r, 'disable')}>{t('common.disable')}</button>
            : <button onClick={() => manage(r, 'enable')}>{t('common.enable')}</button>)}
          <Link class="button" href={`/user/edit/${r.id}`}>{t('common.edit')}</Link>
          <Link class="button" href={`/user/topup?id=${r.id}`}>{t('admin_topup.action')}</Link>
          {r.role < ROLE.root && <button class="danger" onClick={() => manage(r, 'delete')}>{t('common.delete')}</button>}
        </div>
      ),
    },
  ];

  return (
    <Card title={t('nav.users')} actions={<>
      <button class="primary" onClick={() => navigate('/user/add')}>{t('user.add')}</button>
      <button onClick={() => navigate('/user/topup')}>{t('admin_topup.title')}</button>
      <select aria-label={t('common.order')} value={order} onChange={(e) => { setOrder(e.currentTarget.value); load(0, e.currentTarget.value); }}>
        {ORDERS.map((o) => <option key={o} value={o}>{t(`user.order_${o || 'id'}`)}</option>)}
      </select>
      <button onClick={reload}>{t('common.refresh')}</button>
    </>}>
      <SearchBar value={keyword} onInput={setKeyword} onSearch={search} placeholder={t('user.search')} />
      <Table columns={columns} rows={rows} />
      {!searching && <Pager page={page} rows={rows.length} onPage={(p) => load(p)} />}
    </Card>
  );
}
