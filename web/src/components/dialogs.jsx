import { useEffect } from 'preact/hooks';
import { createStore, useStore } from '../lib/store.js';
import { t } from '../lib/i18n.js';

/** A modal dialog; closes on Escape and on a click outside. */
export function Modal({ title, onClose, children, footer, wide }) {
  useEffect(() => {
    const onKey = (e) => e.key === 'Escape' && onClose();
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onClose]);
  return (
    <div class="backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div class={`modal${wide ? ' wide' : ''}`} role="dialog" aria-modal="true" aria-label={title}>
        <div class="modal-head">
          <h3>{title}</h3>
          <button class="link" aria-label={t('common.close')} onClick={onClose}>×</button>
        </div>
        <div class="modal-body">{children}</div>
        {footer && <div class="modal-foot">{footer}</div>}
      </div>
    </div>
  );
}

const pending = createStore(null);

/** Ask the user to confirm; resolves true or false. */
export function confirmDialog(message, { danger = true } = {}) {
  return new Promise((resolve) => pending.set({ kind: 'confirm', message, danger, resolve }));
}

/** Show a text (a key, a password, codes) in a read-only box with a copy hint. */
export function showText(title, text) {
  pending.set({ kind: 'text', title, text, resolve: () => {} });
}

export function Dialogs() {
  const d = useStore(pending);
  if (!d) return null;
  const close = (answer) => {
    pending.set(null);
    d.resolve(answer);
  };
  if (d.kind === 'text') {
    return (
      <Modal title={d.title} onClose={() => close()} footer={<button onClick={() => close()}>{t('common.close')}</button>}>
        <textarea class="mono" readOnly rows={Math.min(12, d.text.split('\n').length + 1)} value={d.text}
          onFocus={(e) => e.currentTarget.select()} />
      </Modal>
    );
  }
  return (
    <Modal title={t('common.confirm_title')} onClose={() => close(false)}
      footer={<>
        <button onClick={() => close(false)}>{t('common.cancel')}</button>
        <button class={d.danger ? 'danger' : 'primary'} onClick={() => close(true)}>{t('common.confirm')}</button>
      </>}>
      <p>{d.message}</p>
    </Modal>
  );
}
