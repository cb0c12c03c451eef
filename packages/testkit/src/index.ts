export * from './faces.js';
