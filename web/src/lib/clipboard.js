import { t } from './i18n.js';
import { toast } from '../components/toast.js';
import { showText } from '../components/dialogs.jsx';

/** Copy text; where the clipboard API is unavailable (plain http), show it to copy by hand. */
export async function copy(text, label) {
  try {
    await navigator.clipboard.writeText(text);
    toast.success(t('common.copied', { what: label || t('common.text') }));
  } catch {
    showText(t('common.copy_manually'), text);
  }
}
