import { useEffect, useState } from 'preact/hooks';
import { Card, Field, Switch } from '../../components/ui.jsx';
import { t } from '../../lib/i18n.js';

/** Why a ratio JSON text is invalid ('' when fine): an object of numbers. */
export function ratioError(text) {
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return t('settings.json_bad', { error: err.message });
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return t('settings.json_not_object');
  const bad = Object.entries(parsed).find(([, v]) => typeof v !== 'number' || !Number.isFinite(v));
  return bad ? t('settings.json_bad_value', { key: bad[0] }) : '';
}

/**
 * A card of options. Field kinds: text, number, textarea, secret (write-only), json (ratio map),
 * switch (saved at once), select (with `choices`). Other fields are saved by the card's button.
 * `tools(draft, fill)` renders extra buttons beside it; `fill({key: value})` changes the draft.
 */
export function OptionGroup({ title, fields, options, save, tools, children }) {
  const pick = () => Object.fromEntries(fields.map((f) => [f.key, f.kind === 'secret' ? '' : options[f.key] ?? '']));
  const [draft, setDraft] = useState(pick);
  useEffect(() => setDraft(pick()), [options]);
  const set = (key, value) => setDraft({ ...draft, [key]: value });
  const fill = (values) => setDraft((d) => ({ ...d, ...values }));
  const errors = Object.fromEntries(fields.filter((f) => f.kind === 'json').map((f) => [f.key, ratioError(draft[f.key])]));
  const invalid = Object.values(errors).some(Boolean);
  const editable = fields.filter((f) => f.kind !== 'switch');

  const submit = (e) => {
    e.preventDefault();
    if (invalid) return;
    const changes = {};
    for (const f of editable) {
      const value = draft[f.key];
      if (f.kind === 'secret' ? value !== '' : value !== (options[f.key] ?? '')) changes[f.key] = value;
    }
    save(changes);
  };

  const control = (f) => {
    const value = draft[f.key] ?? '';
    const onInput = (e) => set(f.key, e.currentTarget.value);
    switch (f.kind) {
      case 'switch':
        return <Switch key={f.key} checked={options[f.key] === 'true'} label={t(`option.${f.key}`)}
          onChange={(v) => save({ [f.key]: v ? 'true' : 'false' })} />;
      case 'textarea':
      case 'json':
        return (
          <Field key={f.key} label={t(`option.${f.key}`)} hint={f.hint && t(f.hint)} error={errors[f.key]} wide>
            <textarea name={f.key} class={f.kind === 'json' ? 'mono' : ''} rows={f.kind === 'json' ? 10 : 6} value={value} onInput={onInput} />
          </Field>
        );
      case 'select':
        return (
          <Field key={f.key} label={t(`option.${f.key}`)} hint={f.hint && t(f.hint)}>
            <select name={f.key} value={value} onChange={onInput}>
              {f.choices.map((c) => <option key={c} value={c}>{t(`${f.choicePrefix}${c}`)}</option>)}
            </select>
          </Field>
        );
      default:
        return (
          <Field key={f.key} label={t(`option.${f.key}`)} hint={f.hint ? t(f.hint) : f.kind === 'secret' ? t('settings.secret_hint') : undefined}>
            <input name={f.key} type={f.kind === 'number' ? 'number' : f.kind === 'secret' ? 'password' : 'text'}
              autoComplete="off" value={value} onInput={onInput} />
          </Field>
        );
    }
  };

  return (
    <Card title={title}>
      <form class="form grid" onSubmit={submit}>
        {fields.map(control)}
        {editable.length > 0 && (
          <div class="form-actions wide">
            {tools && tools(draft, fill)}
            <button type="submit" class="primary" disabled={invalid}>{t('settings.save_group', { name: title })}</button>
          </div>
        )}
      </form>
      {children}
    </Card>
  );
}
