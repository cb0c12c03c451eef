export * from './errors.js';
export * from './http-status.js';
export * from './vision.js';
export * from './health.js';
export * from './auth.js';
export * from './step-up.js';
export * from './realtime.js';
export * from './oidc.js';
