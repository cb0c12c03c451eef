/**
 * The staleness limit of a site, hooked in front of the two ways into a session: starting a
 * face login and refreshing a session. The login flow itself stays as it is; this wraps the
 * entry points of the service instances it is given, so the hook is one line in context.ts.
 */
import type { LoginService } from './login.service.js';
import type { SessionService } from './session.service.js';
import type { SiteService } from './site.service.js';

export function refuseWhenStale(login: LoginService, sessions: SessionService, site: SiteService): void {
  if (site.mode !== 'site') return;
  const start = login.start.bind(login);
  login.start = async (...args: Parameters<LoginService['start']>) => {
    await site.assertFresh();
    return start(...args);
  };
  const refresh = sessions.refresh.bind(sessions);
  sessions.refresh = async (...args: Parameters<SessionService['refresh']>) => {
    await site.assertFresh();
    return refresh(...args);
  };
}
