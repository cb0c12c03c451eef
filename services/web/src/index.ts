export { buildApp, type WebApp, type WebDeps } from './app.js';
export { loadConfig, ConfigError, DEFAULT_PUBLIC_DIR, type WebConfig } from './config.js';
export { CSP_DIRECTIVES, PERMISSIONS_POLICY } from './plugins/security.js';
