export * from './errors.js';
export * from './vision.js';
export * from './health.js';
