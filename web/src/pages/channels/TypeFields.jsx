import { Field } from '../../components/ui.jsx';
import { localText } from '../../lib/channelTypes.js';

/** The extra fields of a channel type (from GET /api/channel/types): the legacy `other` column or keys of `config`. */
export function TypeFields({ spec, form, config, setForm, setConfig }) {
  if (!spec.fields || !spec.fields.length) return null;
  return spec.fields.map((f) => {
    const inConfig = f.name.startsWith('config.');
    const key = inConfig ? f.name.slice(7) : f.name;
    const value = (inConfig ? config[key] : form[key]) || '';
    const onInput = (e) => {
      const v = e.currentTarget.value;
      if (inConfig) setConfig({ ...config, [key]: v });
      else setForm(key, v);
    };
    return (
      <Field key={f.name} label={localText(f.label)} hint={f.hint ? localText(f.hint) : undefined} wide={f.multiline}>
        {f.multiline
          ? <textarea name={f.name} rows={4} class="mono" value={value} onInput={onInput} />
          : <input name={f.name} type={f.secret ? 'password' : 'text'} autoComplete="off" placeholder={f.placeholder || ''} value={value} onInput={onInput} />}
      </Field>
    );
  });
}
