export { buildApp, type AuthApp } from './app.js';
export { createContext, type AppContext } from './context.js';
export { loadConfig, testConfig, type AuthConfig } from './config.js';
export { FaceIndex } from './services/face-index.js';
