import { t } from '../../lib/i18n.js';
import { OptionGroup } from './OptionGroup.jsx';

const GROUPS = [
  ['settings.notice', [{ key: 'Notice', kind: 'textarea', hint: 'settings.markdown_hint' }]],
  ['settings.branding', [
    { key: 'SystemName' }, { key: 'Logo', hint: 'settings.logo_hint' },
    { key: 'Theme', kind: 'select', choices: ['default', 'berry', 'air'], choicePrefix: 'theme.', hint: 'settings.theme_hint' },
  ]],
  ['settings.home_page', [{ key: 'HomePageContent', kind: 'textarea', hint: 'settings.home_hint' }]],
  ['settings.about', [{ key: 'About', kind: 'textarea', hint: 'settings.home_hint' }]],
  ['settings.footer', [{ key: 'Footer', kind: 'textarea', hint: 'settings.markdown_hint' }]],
];

/** Notice, about, home page, footer, logo, system name, theme. */
export function Other({ options, save }) {
  return (
    <div class="stack">
      {GROUPS.map(([title, fields]) => <OptionGroup key={title} title={t(title)} fields={fields} options={options} save={save} />)}
    </div>
  );
}
