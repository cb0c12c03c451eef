/** The signed-in person's passkeys: add (after a fresh face login), list, remove. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import {
  AUTH_ROUTES, AddPasskeyRequest, ErrorBody, PasskeyIdParams, PasskeyOptionsResponse, PasskeyResponse, PasskeysResponse,
} from '@faceline/contracts';
import type { AppContext } from '../context.js';
import { toPasskey } from '../services/passkey.service.js';
import type { Authenticated } from '../services/session.service.js';
import { clientInfo, requireUser, webauthnSite } from './plugin-auth.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 500: ErrorBody };

export const passkeyRoutes = (ctx: AppContext): FastifyPluginAsyncTypebox => async (app) => {
  const auth = requireUser(ctx);

  app.get(
    AUTH_ROUTES.mePasskeys,
    { preHandler: auth, schema: { tags: ['me'], summary: 'my passkeys', response: { 200: PasskeysResponse, ...errors } } },
    async (req) => ({ passkeys: (await ctx.passkeys.list((req.auth as Authenticated).user.id)).map(toPasskey) }),
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
      return { options: await ctx.passkeys.registrationOptions(a.user, a.session, webauthnSite(ctx, req)) };
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
      const p = await ctx.passkeys.register(a.user, a.session, req.body, webauthnSite(ctx, req), clientInfo(req));
      return reply.code(201).send({ passkey: toPasskey(p) });
    },
  );

  app.delete(
    `${AUTH_ROUTES.mePasskeys}/:id`,
    { preHandler: auth, schema: { tags: ['me'], summary: 'remove one of my passkeys', params: PasskeyIdParams, response: { 204: Type.Null(), ...errors } } },
    async (req, reply) => {
      await ctx.passkeys.remove((req.auth as Authenticated).user, req.params.id, clientInfo(req));
      return reply.code(204).send(null);
    },
  );
};
