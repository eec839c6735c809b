import { get } from './api.js';

/** Where the provider sends the browser back: <ServerAddress>/oauth/<provider>. */
const back = (status, provider) => `${(status.server_address || location.origin).replace(/\/$/, '')}/oauth/${provider}`;

/** Leave for the provider's consent page, with a fresh session state. */
export async function startOAuth(provider, status) {
  const state = await get('/api/oauth/state');
  const q = (params) => new URLSearchParams(params).toString();
  if (provider === 'github') {
    location.href = `https://github.com/login/oauth/authorize?${q({ client_id: status.github_client_id, state, scope: 'user:email' })}`;
  } else if (provider === 'oidc') {
    location.href = `${status.oidc_authorization_endpoint}?${q({
      client_id: status.oidc_client_id, redirect_uri: back(status, 'oidc'), response_type: 'code', scope: 'openid profile email', state,
    })}`;
  } else if (provider === 'lark') {
    location.href = `https://open.feishu.cn/open-apis/authen/v1/authorize?${q({ client_id: status.lark_client_id, redirect_uri: back(status, 'lark'), state })}`;
  }
}
