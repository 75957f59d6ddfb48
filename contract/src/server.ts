/** Contract pieces only servers use (kept out of the browser bundle's entry point). */
export * from './env-config.ts';
export * from './request-dispatch.ts';
export * from './service-http.ts';
