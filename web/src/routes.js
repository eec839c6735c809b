import { About } from './pages/About.jsx';
import { Chat } from './pages/Chat.jsx';
import { ChannelEdit } from './pages/channels/ChannelEdit.jsx';
import { Channels } from './pages/channels/Channels.jsx';
import { Dashboard } from './pages/Dashboard.jsx';
import { Home } from './pages/Home.jsx';
import { Login } from './pages/Login.jsx';
import { Logs } from './pages/Logs.jsx';
import { OAuthCallback } from './pages/OAuthCallback.jsx';
import { RedemptionAdd } from './pages/RedemptionAdd.jsx';
import { Redemptions } from './pages/Redemptions.jsx';
import { Register } from './pages/Register.jsx';
import { ResetConfirm, ResetRequest } from './pages/Reset.jsx';
import { Settings } from './pages/settings/Settings.jsx';
import { TokenEdit } from './pages/TokenEdit.jsx';
import { Tokens } from './pages/Tokens.jsx';
import { TopUp } from './pages/TopUp.jsx';
import { UserEdit } from './pages/UserEdit.jsx';
import { UserTopUp } from './pages/UserTopUp.jsx';
import { Users } from './pages/Users.jsx';

/** Client-side routes; `need` = least role (0 anyone, 1 user, 10 admin). */
export const ROUTES = [
  { path: '/', page: Home, need: 0 },
  { path: '/about', page: About, need: 0 },
  { path: '/login', page: Login, need: 0 },
  { path: '/register', page: Register, need: 0 },
  { path: '/reset', page: ResetRequest, need: 0 },
  { path: '/user/reset', page: ResetConfirm, need: 0 },
  { path: '/oauth/:provider', page: OAuthCallback, need: 0 },
  { path: '/channel', page: Channels, need: 10 },
  { path: '/channel/add', page: ChannelEdit, need: 10 },
  { path: '/channel/edit/:id', page: ChannelEdit, need: 10 },
  { path: '/token', page: Tokens, need: 1 },
  { path: '/token/add', page: TokenEdit, need: 1 },
  { path: '/token/edit/:id', page: TokenEdit, need: 1 },
  { path: '/log', page: Logs, need: 1 },
  { path: '/dashboard', page: Dashboard, need: 1 },
  { path: '/topup', page: TopUp, need: 1 },
  { path: '/setting', page: Settings, need: 1 },
  { path: '/chat', page: Chat, need: 1 },
  { path: '/user', page: Users, need: 10 },
  { path: '/user/add', page: UserEdit, need: 10 },
  { path: '/user/topup', page: UserTopUp, need: 10 },
  { path: '/user/edit/:id', page: UserEdit, need: 10 },
  { path: '/redemption', page: Redemptions, need: 10 },
  { path: '/redemption/add', page: RedemptionAdd, need: 10 },
];
