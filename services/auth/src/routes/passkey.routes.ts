/** The signed-in person's passkeys: add (after a fresh face login), list, remove. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import {
  AUTH_ROUTES,
  AddPasskeyRequest,
  ErrorBody,
  PasskeyIdParams,
  PasskeyOptionsResponse,
  PasskeyResponse,
  PasskeysResponse,
} from '@faceline/contracts';
import type { AuthConfig } from '../config.js';
import { toPasskey, type PasskeyService } from '../services/passkey.service.js';
import type { Authenticated } from '../services/session.service.js';
import { clientInfo, requireUser, webauthnSite, type Authenticator } from './plugin-auth.js';

export interface PasskeyRouteDeps {
  passkeys: Pick<PasskeyService, 'list' | 'registrationOptions' | 'register' | 'remove'>;
  sessions: Pick<Authenticator, 'authenticate'>;
  config: Pick<AuthConfig, 'publicUrl'>;
}

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 500: ErrorBody };

export const passkeyRoutes =
  ({ passkeys, sessions, config }: PasskeyRouteDeps): FastifyPluginAsyncTypebox =>
  async (app) => {
    const auth = requireUser(sessions);

    app.get(
      AUTH_ROUTES.mePasskeys,
      { preHandler: auth, schema: { tags: ['me'], summary: 'my passkeys', response: { 200: PasskeysResponse, ...errors } } },
      async (req) => ({ passkeys: (await passkeys.list((req.auth as Authenticated).user.id)).map(toPasskey) }),
    );

    app.post(
      AUTH_ROUTES.mePasskeyOptions,
      {
        preHandler: auth,
        schema: {
          tags: ['me'],
          summary: 'WebAuthn creation options for a new passkey (needs a fresh face login: REAUTH_REQUIRED otherwise)',
          response: { 200: PasskeyOptionsResponse, ...errors },
        },
      },
      async (req) => {
        const a = req.auth as Authenticated;
        return { options: await passkeys.registrationOptions(a.user, a.session, webauthnSite(config, req)) };
      },
    );

    app.post(
      AUTH_ROUTES.mePasskeys,
      {
        preHandler: auth,
        schema: {
          tags: ['me'],
          summary: 'add a passkey: the answer of startRegistration to the options (needs a fresh face login)',
          body: AddPasskeyRequest,
          response: { 201: PasskeyResponse, ...errors },
        },
      },
      async (req, reply) => {
        const a = req.auth as Authenticated;
        const p = await passkeys.register(a.user, a.session, req.body, webauthnSite(config, req), clientInfo(req));
        return reply.code(201).send({ passkey: toPasskey(p) });
      },
    );

    app.delete(
      `${AUTH_ROUTES.mePasskeys}/:id`,
      {
        preHandler: auth,
        schema: { tags: ['me'], summary: 'remove one of my passkeys', params: PasskeyIdParams, response: { 204: Type.Null(), ...errors } },
      },
      async (req, reply) => {
        await passkeys.remove((req.auth as Authenticated).user, req.params.id, clientInfo(req));
        return reply.code(204).send(null);
      },
    );
  };
