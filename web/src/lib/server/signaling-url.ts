import { webConfig } from './config.ts';

/** Where this page's browser reaches signaling (see SIGNALING_PUBLIC_URL). */
export function signalingUrl(pageUrl: URL): string {
  const config = webConfig();
  if (config.SIGNALING_PUBLIC_URL) return config.SIGNALING_PUBLIC_URL.replace(/\/$/, '');
  return `${pageUrl.protocol}//${pageUrl.hostname}:${config.SIGNALING_PORT}`;
}

/** The origins a page may connect to for signaling: its HTTP(S) and WebSocket forms. */
export function signalingConnectSources(pageUrl: URL): string {
  const origin = new URL(signalingUrl(pageUrl)).origin;
  return `${origin} ${origin.replace(/^http/, 'ws')}`;
}
