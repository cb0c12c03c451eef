export * from './faces.js';
export * from './ports.js';
