import { useStore } from '../lib/store.js';
import { t } from '../lib/i18n.js';
import { dismiss, toasts } from './toast.js';

export function Toasts() {
  const list = useStore(toasts);
  return (
    <div class="toasts" role="status" aria-live="polite">
      {list.map((x) => (
        <div key={x.id} class={`toast toast-${x.kind}`} data-kind={x.kind}>
          <span class="toast-text">{x.message}</span>
          <button class="link" aria-label={t('common.close')} onClick={() => dismiss(x.id)}>×</button>
        </div>
      ))}
    </div>
  );
}
