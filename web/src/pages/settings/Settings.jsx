import { Loading, Tabs } from '../../components/ui.jsx';
import { t } from '../../lib/i18n.js';
import { navigate, useQuery } from '../../lib/router.js';
import { isRoot, user } from '../../lib/session.js';
import { useStore } from '../../lib/store.js';
import { Operation } from './Operation.jsx';
import { Other } from './Other.jsx';
import { Personal } from './Personal.jsx';
import { System } from './System.jsx';
import { useOptions } from './useOptions.js';

const ROOT_TABS = { operation: Operation, system: System, other: Other };

function RootTab({ tab }) {
  const { options, error, save } = useOptions();
  if (error) return <p class="field-error" role="alert">{error}</p>;
  if (!options) return <Loading />;
  const Page = ROOT_TABS[tab];
  return <Page options={options} save={save} />;
}

export function Settings() {
  const root = isRoot(useStore(user));
  const requested = useQuery().get('tab') || 'personal';
  const tab = root && ROOT_TABS[requested] ? requested : 'personal';
  const tabs = [{ id: 'personal', label: t('settings.personal') }];
  if (root) {
    tabs.push({ id: 'operation', label: t('settings.operation') }, { id: 'system', label: t('settings.system') }, { id: 'other', label: t('settings.other') });
  }
  return (
    <div class="stack">
      <Tabs tabs={tabs} active={tab} onChange={(id) => navigate(`/setting?tab=${id}`, { replace: true })} />
      {tab === 'personal' ? <Personal /> : <RootTab key={tab} tab={tab} />}
    </div>
  );
}
