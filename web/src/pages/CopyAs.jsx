import { useState } from 'preact/hooks';
import { Modal } from '../components/dialogs.jsx';
import { Tabs } from '../components/ui.jsx';
import { copy } from '../lib/clipboard.js';
import { t } from '../lib/i18n.js';
import { status } from '../lib/session.js';
import { useStore } from '../lib/store.js';
import { gatewayAddress, snippets } from './snippets.js';

// [snippet id, tab label (a product name, not translated), hint key or null]
const KINDS = [
  ['curl', 'curl', null],
  ['python', 'openai-python', null],
  ['node', 'openai-node', null],
  ['claude_code', 'Claude Code', 'token.snippet_hint_claude_code'],
  ['codex', 'Codex CLI', 'token.snippet_hint_codex'],
  ['anthropic', 'anthropic-python', null],
  ['genai', 'google-genai', null],
];

/** A token's key ready to paste into a client. */
export function CopyAs({ token, onClose }) {
  const st = useStore(status);
  const [kind, setKind] = useState('curl');
  const key = `sk-${token.key}`;
  const model = (token.models || '').split(',').find(Boolean);
  const text = snippets(key, model, gatewayAddress(st.server_address))[kind];
  const hint = KINDS.find(([id]) => id === kind)[2];
  return (
    <Modal wide title={t('token.copy_as_title', { name: token.name })} onClose={onClose}
      footer={<><button onClick={onClose}>{t('common.close')}</button>
        <button class="primary" onClick={() => copy(text, t('token.snippet'))}>{t('common.copy')}</button></>}>
      <Tabs tabs={KINDS.map(([id, label]) => ({ id, label }))} active={kind} onChange={setKind} />
      {hint && <p class="hint" data-hint={kind}>{t(hint)}</p>}
      <pre class="code" data-snippet={kind}>{text}</pre>
    </Modal>
  );
}
