import { useState } from 'preact/hooks';
import { confirmDialog } from '../../components/dialogs.jsx';
import { attempt, toast } from '../../components/toast.js';
import { Card, Field } from '../../components/ui.jsx';
import { api, query } from '../../lib/api.js';
import { fromLocalInput } from '../../lib/format.js';
import { t } from '../../lib/i18n.js';
import { OptionGroup } from './OptionGroup.jsx';

const GROUPS = [
  ['settings.general', [
    { key: 'TopUpLink' }, { key: 'ChatLink' }, { key: 'QuotaPerUnit', kind: 'number' }, { key: 'RetryTimes', kind: 'number' },
    { key: 'DisplayInCurrencyEnabled', kind: 'switch' }, { key: 'DisplayTokenStatEnabled', kind: 'switch' },
    { key: 'ApproximateTokenEnabled', kind: 'switch' }, { key: 'LogConsumeEnabled', kind: 'switch' },
  ]],
  ['settings.quota', [
    { key: 'QuotaForNewUser', kind: 'number' }, { key: 'PreConsumedQuota', kind: 'number' },
    { key: 'QuotaForInviter', kind: 'number' }, { key: 'QuotaForInvitee', kind: 'number' },
    { key: 'QuotaRemindThreshold', kind: 'number' },
  ]],
  ['settings.ratios', [
    { key: 'ModelRatio', kind: 'json', hint: 'settings.model_ratio_hint' },
    { key: 'CompletionRatio', kind: 'json', hint: 'settings.completion_ratio_hint' },
    { key: 'GroupRatio', kind: 'json', hint: 'settings.group_ratio_hint' },
  ]],
  ['settings.rate_limits', [
    { key: 'GroupRateLimits', kind: 'textarea', hint: 'settings.group_rate_limits_hint' },
  ]],
  ['settings.monitoring', [
    { key: 'ChannelDisableThreshold', kind: 'number', hint: 'settings.threshold_hint' },
    { key: 'AutomaticDisableChannelEnabled', kind: 'switch' }, { key: 'AutomaticEnableChannelEnabled', kind: 'switch' },
  ]],
];

/** Quota, ratios, retries and channel switches; plus deleting old logs. */
export function Operation({ options, save }) {
  return (
    <div class="stack">
      {GROUPS.map(([title, fields]) => <OptionGroup key={title} title={t(title)} fields={fields} options={options} save={save} />)}
      <LogCleanup />
    </div>
  );
}

function LogCleanup() {
  const [before, setBefore] = useState('');
  const clean = async () => {
    const ts = fromLocalInput(before);
    if (!ts) return toast.error(t('settings.log_time_missing'));
    if (!(await confirmDialog(t('settings.log_confirm', { time: before.replace('T', ' ') })))) return;
    const n = await attempt(() => api('DELETE', `/api/log/${query({ target_timestamp: ts })}`));
    if (n !== undefined) toast.success(t('settings.log_deleted', { n }));
  };
  return (
    <Card title={t('settings.log_cleanup')}>
      <div class="form grid">
        <Field label={t('settings.log_before')}>
          <input type="datetime-local" name="log_before" value={before} onInput={(e) => setBefore(e.currentTarget.value)} />
        </Field>
        <div class="form-actions wide"><button class="danger" onClick={clean}>{t('settings.log_clean')}</button></div>
      </div>
    </Card>
  );
}
