import { useEffect, useState } from 'preact/hooks';
import { HorizontalBars, StackedBars } from '../components/charts.jsx';
import { Card, Loading } from '../components/ui.jsx';
import { get } from '../lib/api.js';
import { renderQuota } from '../lib/format.js';
import { t } from '../lib/i18n.js';

/** The seven UTC days /api/user/dashboard covers, oldest first. */
function lastSevenDays() {
  const today = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate());
  return Array.from({ length: 7 }, (_, i) => new Date(today - (6 - i) * 86400000).toISOString().slice(0, 10));
}

/** Per-model series over the days for one measure of the dashboard rows. */
function seriesOf(rows, days, measure) {
  const models = [...new Set(rows.map((r) => r.ModelName))].sort();
  return models.map((name) => ({
    name,
    values: days.map((d) => rows.filter((r) => r.Day === d && r.ModelName === name).reduce((s, r) => s + measure(r), 0)),
  }));
}

function totalsByModel(rows, measure) {
  const totals = {};
  for (const r of rows) totals[r.ModelName] = (totals[r.ModelName] || 0) + measure(r);
  return Object.entries(totals).map(([name, value]) => ({ name, value })).sort((a, b) => b.value - a.value);
}

export function Dashboard() {
  const [rows, setRows] = useState(null);
  const [me, setMe] = useState(null);
  const [error, setError] = useState('');
  useEffect(() => {
    get('/api/user/dashboard').then((d) => setRows(d || [])).catch((e) => { setRows([]); setError(e.message); });
    get('/api/user/self').then(setMe).catch((e) => setError(e.message));
  }, []);
  if (rows === null) return <Loading />;

  const days = lastSevenDays();
  const requests = (r) => r.RequestCount;
  const quota = (r) => r.Quota;
  const tokens = (r) => r.PromptTokens + r.CompletionTokens;
  const sum = (m) => rows.reduce((s, r) => s + m(r), 0);
  const fmtQuota = (v) => renderQuota(v, 4);

  return (
    <div class="stack">
      {error && <p class="field-error" role="alert">{error}</p>}
      <div class="stats">
        <Stat label={t('dashboard.balance')} value={me ? renderQuota(me.quota) : '…'} />
        <Stat label={t('dashboard.used')} value={me ? renderQuota(me.used_quota) : '…'} />
        <Stat label={t('dashboard.request_count')} value={me ? me.request_count : '…'} />
        <Stat label={t('dashboard.week_requests')} value={sum(requests)} />
        <Stat label={t('dashboard.week_quota')} value={fmtQuota(sum(quota))} />
        <Stat label={t('dashboard.week_tokens')} value={sum(tokens)} />
      </div>
      <Card title={t('dashboard.per_day')}>
        {rows.length === 0 && <p class="muted">{t('dashboard.no_data')}</p>}
        <div class="charts">
          <StackedBars title={t('dashboard.requests')} labels={days} series={seriesOf(rows, days, requests)} />
          <StackedBars title={t('dashboard.quota')} labels={days} series={seriesOf(rows, days, quota)} format={fmtQuota} />
          <StackedBars title={t('dashboard.tokens')} labels={days} series={seriesOf(rows, days, tokens)} />
        </div>
      </Card>
      <Card title={t('dashboard.per_model')}>
        <div class="charts">
          <HorizontalBars title={t('dashboard.requests')} items={totalsByModel(rows, requests)} />
          <HorizontalBars title={t('dashboard.quota')} items={totalsByModel(rows, quota)} format={fmtQuota} />
          <HorizontalBars title={t('dashboard.tokens')} items={totalsByModel(rows, tokens)} />
        </div>
      </Card>
    </div>
  );
}

function Stat({ label, value }) {
  return <div class="stat-card"><span class="muted">{label}</span><strong>{value}</strong></div>;
}
