import { useState } from 'preact/hooks';
import { Modal } from '../components/dialogs.jsx';
import { Tabs } from '../components/ui.jsx';
import { copy } from '../lib/clipboard.js';
import { t } from '../lib/i18n.js';
import { snippets } from './snippets.js';

const KINDS = [['curl', 'curl'], ['python', 'openai-python'], ['node', 'openai-node']];

/** A token's key ready to paste into a client. */
export function CopyAs({ token, onClose }) {
  const [kind, setKind] = useState('curl');
  const key = `sk-${token.key}`;
  const model = (token.models || '').split(',').find(Boolean);
  const text = snippets(key, model)[kind];
  return (
    <Modal wide title={t('token.copy_as_title', { name: token.name })} onClose={onClose}
      footer={<><button onClick={onClose}>{t('common.close')}</button>
        <button class="primary" onClick={() => copy(text, t('token.snippet'))}>{t('common.copy')}</button></>}>
      <Tabs tabs={KINDS.map(([id, label]) => ({ id, label }))} active={kind} onChange={setKind} />
      <pre class="code" data-snippet={kind}>{text}</pre>
    </Modal>
  );
}
