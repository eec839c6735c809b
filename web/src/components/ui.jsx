import { t } from '../lib/i18n.js';

export const PAGE_SIZE = 10;

export function Card({ title, actions, children, class: cls }) {
  return (
    <section class={`card ${cls || ''}`}>
      {(title || actions) && (
        <div class="card-head">
          {title && <h2>{title}</h2>}
          {actions && <div class="actions">{actions}</div>}
        </div>
      )}
      {children}
    </section>
  );
}

/** A labelled form row; `error` shows under the control. */
export function Field({ label, hint, error, children, wide }) {
  return (
    <label class={`field${wide ? ' wide' : ''}`}>
      <span class="field-label">{label}</span>
      {children}
      {hint && <span class="field-hint">{hint}</span>}
      {error && <span class="field-error" role="alert">{error}</span>}
    </label>
  );
}

export function Switch({ checked, onChange, label, disabled }) {
  return (
    <label class="switch">
      <input type="checkbox" role="switch" checked={!!checked} disabled={disabled}
        onChange={(e) => onChange(e.currentTarget.checked)} />
      <span class="switch-track" aria-hidden="true" />
      <span>{label}</span>
    </label>
  );
}

export function Tag({ color = 'grey', children, title }) {
  return <span class={`tag tag-${color}`} title={title}>{children}</span>;
}

/** Prev/next paging: the API returns 10 rows a page and no total, so a short page is the last. */
export function Pager({ page, rows, onPage }) {
  return (
    <div class="pager">
      <button disabled={page === 0} onClick={() => onPage(page - 1)}>{t('common.prev')}</button>
      <span class="pager-page">{t('common.page', { n: page + 1 })}</span>
      <button disabled={rows < PAGE_SIZE} onClick={() => onPage(page + 1)}>{t('common.next')}</button>
    </div>
  );
}

export function Table({ columns, rows, rowKey = 'id', empty }) {
  return (
    <div class="table-wrap">
      <table>
        <thead><tr>{columns.map((c) => <th key={c.title}>{c.title}</th>)}</tr></thead>
        <tbody>
          {rows.length === 0 && (
            <tr><td class="empty" colSpan={columns.length}>{empty || t('common.empty')}</td></tr>
          )}
          {rows.map((row, i) => (
            <tr key={row[rowKey] ? row[rowKey] : `row-${i}`}>
              {columns.map((c) => <td key={c.title} class={c.class}>{c.render ? c.render(row) : row[c.key]}</td>)}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function SearchBar({ value, onInput, onSearch, placeholder }) {
  return (
    <form class="search" onSubmit={(e) => { e.preventDefault(); onSearch(); }}>
      <input type="search" value={value} placeholder={placeholder} aria-label={placeholder}
        onInput={(e) => onInput(e.currentTarget.value)} />
      <button type="submit">{t('common.search')}</button>
    </form>
  );
}

export function Tabs({ tabs, active, onChange }) {
  return (
    <div class="tabs" role="tablist">
      {tabs.map((tab) => (
        <button key={tab.id} role="tab" aria-selected={tab.id === active} class={tab.id === active ? 'active' : ''}
          onClick={() => onChange(tab.id)}>{tab.label}</button>
      ))}
    </div>
  );
}

export function Loading() {
  return <div class="loading" aria-busy="true">{t('common.loading')}</div>;
}
