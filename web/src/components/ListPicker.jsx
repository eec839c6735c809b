import { useState } from 'preact/hooks';
import { t } from '../lib/i18n.js';

/** A list of names as removable chips, with free text entry (comma-separated) and suggestions. */
export function ListPicker({ value, onChange, suggestions = [], placeholder, label }) {
  const [text, setText] = useState('');
  const add = (names) => {
    const next = [...value];
    for (const n of names.map((x) => x.trim()).filter(Boolean)) if (!next.includes(n)) next.push(n);
    onChange(next);
  };
  const submit = () => {
    add(text.split(','));
    setText('');
  };
  const rest = suggestions.filter((s) => !value.includes(s));
  return (
    <div class="picker" aria-label={label}>
      <div class="chips">
        {value.map((v) => (
          <span class="chip" key={v}>
            {v}
            <button type="button" class="link" aria-label={t('common.remove_item', { name: v })}
              onClick={() => onChange(value.filter((x) => x !== v))}>×</button>
          </span>
        ))}
        {value.length === 0 && <span class="muted">{t('common.none_selected')}</span>}
      </div>
      <div class="row">
        <input value={text} placeholder={placeholder} list={rest.length ? `${label}-suggest` : undefined}
          aria-label={placeholder}
          onInput={(e) => setText(e.currentTarget.value)}
          onKeyDown={(e) => { if (e.key === 'Enter') { e.preventDefault(); submit(); } }} />
        <button type="button" onClick={submit}>{t('common.add')}</button>
      </div>
      {rest.length > 0 && (
        <datalist id={`${label}-suggest`}>{rest.map((s) => <option key={s} value={s} />)}</datalist>
      )}
    </div>
  );
}
