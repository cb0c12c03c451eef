/**
 * "Sign in with Faceline": the OpenID Connect endpoints (handed to oidc-provider as they are),
 * the interaction API the web app's sign-in page uses, and the administrators' client list.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import {
  AUTH_COOKIES,
  ErrorBody,
  ErrorCode,
  InteractionDetails,
  InteractionParams,
  InteractionRedirect,
  OIDC_ROUTES,
  OidcClientsResponse,
} from '@faceline/contracts';
import type { AuthConfig } from '../config.js';
import { AuthError } from '../errors.js';
import type { OidcService } from '../oidc/oidc.service.js';
import type { Authenticated, SessionService } from '../services/session.service.js';
import { clearSessionCookies, clientInfo, requireAdmin, type CookieSettings } from './plugin-auth.js';

type Provider = Pick<OidcService, 'adminView' | 'handle' | 'autoConsent' | 'details' | 'finishLogin' | 'consent' | 'abort'>;

export interface OidcRouteDeps {
  /** undefined when the provider is off: its endpoints then answer OIDC_DISABLED */
  oidc: Provider | undefined;
  sessions: Pick<SessionService, 'authenticate' | 'effectiveRole' | 'logoutSession'>;
  config: CookieSettings & Pick<AuthConfig, 'oidcLoginPath'>;
}

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody, 500: ErrorBody };
const EmptyBody = Type.Object({}, { additionalProperties: false });
const INTERACTION = '/oidc/interaction/:uid';

/** The browser's Faceline session, or null (no cookie, expired, ended). */
async function webSession(sessions: OidcRouteDeps['sessions'], req: FastifyRequest): Promise<Authenticated | null> {
  const token = req.cookies[AUTH_COOKIES.access];
  if (!token) return null;
  try {
    return await sessions.authenticate(token);
  } catch {
    return null;
  }
}

function noStore(reply: FastifyReply): void {
  reply.header('cache-control', 'no-store');
}

export const oidcRoutes =
  (deps: OidcRouteDeps): FastifyPluginAsyncTypebox =>
  async (app) => {
    app.get(
      OIDC_ROUTES.adminClients,
      {
        preHandler: requireAdmin(deps.sessions),
        schema: {
          tags: ['admin'],
          summary: 'applications registered for "Sign in with Faceline" (read-only; secrets are never shown)',
          response: { 200: OidcClientsResponse, ...errors },
        },
      },
      async () => deps.oidc?.adminView() ?? { enabled: false, issuer: null, discoveryUrl: null, clients: [] },
    );

    const oidc = deps.oidc;
    if (!oidc) {
      // say why instead of a bare 404, so an operator sees what to set
      for (const url of ['/oidc/*', OIDC_ROUTES.discovery, OIDC_ROUTES.authorizationServerMetadata]) {
        app.get(url, { schema: { hide: true } }, async () => {
          throw new AuthError(
            ErrorCode.OIDC_DISABLED,
            'the OpenID Connect provider is off: set PUBLIC_URL (its issuer) and do not set OIDC=false',
          );
        });
      }
      return;
    }

    // The protocol endpoints belong to oidc-provider: it parses its own bodies, checks its own
    // CSRF tokens and renders its own errors (cross-site requests are part of the protocol).
    await app.register(async (provider) => {
      provider.removeAllContentTypeParsers();
      provider.addContentTypeParser('*', (_req, _payload, done) => done(null));
      for (const url of ['/oidc/*', OIDC_ROUTES.discovery, OIDC_ROUTES.authorizationServerMetadata]) {
        provider.route({
          method: ['GET', 'POST', 'OPTIONS', 'DELETE'],
          url,
          schema: { hide: true },
          config: { crossSite: true },
          handler: async (req, reply) => {
            reply.hijack();
            try {
              await oidc.handle(req.raw, reply.raw, clientInfo(req).ip);
            } catch (err) {
              req.log.error({ err }, 'OpenID Connect request failed');
              if (!reply.raw.headersSent) reply.raw.writeHead(500, { 'content-type': 'application/json' });
              reply.raw.end(JSON.stringify({ error: { code: ErrorCode.INTERNAL, message: 'internal error' } }));
            }
          },
        });
      }
    });

    interactionRoutes(deps, oidc, app);
  };

function interactionRoutes({ sessions, config }: OidcRouteDeps, oidc: Provider, app: Parameters<FastifyPluginAsyncTypebox>[0]): void {
  app.get(
    INTERACTION,
    {
      schema: {
        tags: ['oidc'],
        summary:
          'where the provider sends the browser when it needs the person: on to the sign-in page (or straight back when a first-party client only needs consent)',
        params: InteractionParams,
        response: { 303: Type.Null({ description: "Location: the web app's sign-in page, or back to the provider" }), ...errors },
      },
    },
    async (req, reply) => {
      noStore(reply);
      const back = await oidc.autoConsent(req.raw, reply.raw, req.params.uid);
      return reply.redirect(back ?? `${config.oidcLoginPath}?uid=${encodeURIComponent(req.params.uid)}`, 303);
    },
  );

  app.get(
    `${INTERACTION}/details`,
    {
      schema: {
        tags: ['oidc'],
        summary: 'the sign-in request: client, face login mode, whether a new face login is needed',
        params: InteractionParams,
        response: { 200: InteractionDetails, ...errors },
      },
    },
    async (req, reply) => {
      noStore(reply);
      return oidc.details(req.raw, reply.raw, req.params.uid, await webSession(sessions, req));
    },
  );

  app.post(
    `${INTERACTION}/login`,
    {
      schema: {
        tags: ['oidc'],
        summary: 'finish the login with the face login this browser just did (its Faceline session cookie); answers where to go next',
        params: InteractionParams,
        body: EmptyBody,
        response: { 200: InteractionRedirect, ...errors },
      },
    },
    async (req, reply) => {
      noStore(reply);
      const auth = await webSession(sessions, req);
      if (!auth) throw new AuthError(ErrorCode.UNAUTHENTICATED, 'sign in with your face first');
      const client = clientInfo(req);
      const { redirectTo, endWebSession } = await oidc.finishLogin(req.raw, reply.raw, req.params.uid, auth, client);
      if (endWebSession) {
        await sessions.logoutSession(auth.session.id, auth.user.id, client);
        clearSessionCookies(config, req, reply);
      }
      return { redirectTo };
    },
  );

  app.post(
    `${INTERACTION}/consent`,
    {
      schema: {
        tags: ['oidc'],
        summary: 'allow what the application asked for',
        params: InteractionParams,
        body: EmptyBody,
        response: { 200: InteractionRedirect, ...errors },
      },
    },
    async (req, reply) => {
      noStore(reply);
      return { redirectTo: await oidc.consent(req.raw, reply.raw, req.params.uid) };
    },
  );

  app.post(
    `${INTERACTION}/abort`,
    {
      schema: {
        tags: ['oidc'],
        summary: 'cancel: the application gets access_denied',
        params: InteractionParams,
        body: EmptyBody,
        response: { 200: InteractionRedirect, ...errors },
      },
    },
    async (req, reply) => {
      noStore(reply);
      return { redirectTo: await oidc.abort(req.raw, reply.raw, req.params.uid) };
    },
  );
}
