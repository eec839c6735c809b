import { useEffect, useRef } from 'preact/hooks';

const SCRIPT = 'https://challenges.cloudflare.com/turnstile/v0/api.js?render=explicit';
let loading = null;

/** Cloudflare's widget script; the master's CSP allows it only while Turnstile is switched on. */
function loadScript() {
  if (!loading) {
    loading = new Promise((resolve, reject) => {
      const s = document.createElement('script');
      s.src = SCRIPT;
      s.async = true;
      s.onload = () => resolve(window.turnstile);
      s.onerror = () => { loading = null; reject(new Error('turnstile')); };
      document.head.appendChild(s);
    });
  }
  return loading;
}

/** Renders the Turnstile check when `siteKey` is set; calls onToken with each token. */
export function Turnstile({ siteKey, onToken }) {
  const box = useRef(null);
  useEffect(() => {
    if (!siteKey) return undefined;
    let id = null;
    loadScript().then((ts) => {
      if (box.current) id = ts.render(box.current, { sitekey: siteKey, callback: onToken });
    }).catch(() => onToken(''));
    return () => id !== null && window.turnstile && window.turnstile.remove(id);
  }, [siteKey]);
  return siteKey ? <div class="turnstile" ref={box} /> : null;
}
