import { useState } from 'preact/hooks';
import { Modal } from '../components/dialogs.jsx';
import { attempt } from '../components/toast.js';
import { Field } from '../components/ui.jsx';
import { query, request } from '../lib/api.js';
import { t } from '../lib/i18n.js';

/** Scan the official account's QR code, send the verification code it replies with. */
export function WeChatLogin({ qrcode, onClose, onDone, bind }) {
  const [code, setCode] = useState('');
  const submit = async () => {
    const path = bind ? '/api/oauth/wechat/bind' : '/api/oauth/wechat';
    const res = await attempt(() => request('GET', path + query({ code })));
    if (res) onDone(res.data);
  };
  return (
    <Modal title={t('login.wechat')} onClose={onClose}
      footer={<><button onClick={onClose}>{t('common.cancel')}</button><button class="primary" onClick={submit}>{t('common.confirm')}</button></>}>
      {qrcode && <img class="qrcode" src={qrcode} alt={t('login.wechat_qr')} />}
      <p class="muted">{t('login.wechat_hint')}</p>
      <Field label={t('login.wechat_code')}>
        <input value={code} onInput={(e) => setCode(e.currentTarget.value)} />
      </Field>
    </Modal>
  );
}
