import { Type, type Static } from '@sinclair/typebox';

export const HealthResponse = Type.Object(
  {
    status: Type.Union([Type.Literal('ok'), Type.Literal('starting'), Type.Literal('unavailable')]),
    service: Type.String(),
    version: Type.String(),
    checks: Type.Optional(Type.Record(Type.String(), Type.String())),
  },
  { $id: 'HealthResponse' },
);
export type HealthResponse = Static<typeof HealthResponse>;

/** Default ports; each service's config.ts reads PORT to override. */
export const DEFAULT_PORTS = { web: 8080, auth: 8081, vision: 8082 } as const;
