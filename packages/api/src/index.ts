export * from './errors.js';
export * from './duration.js';
export * from './hosts.js';
export * from './manifest.js';
export * from './proto.js';
export * from './regex.js';
export * from './resources.js';
export * from './validate.js';
