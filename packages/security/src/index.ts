// Node-side security primitives shared by web, worker and seed: password hashing, tokens,
// sealed secrets and TOTP.
export * from './password.ts';
export * from './secrets.ts';
export * from './tokens.ts';
export * from './totp.ts';
export * from './credentials.ts';
export * from './cluster-config.ts';
