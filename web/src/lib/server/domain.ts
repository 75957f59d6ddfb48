import { pino } from 'pino';
import { AccountStore, AuditLog, SessionStore, SigninStore, SiteStore, connectRedis } from '@telemed/domain';
import { webConfig } from './config.ts';

export const logger = pino({ name: 'web', level: process.env.LOG_LEVEL ?? 'info' });

export interface WebDomain {
  accounts: AccountStore;
  sessions: SessionStore;
  sites: SiteStore;
  signins: SigninStore;
  audit: AuditLog;
}

let domain: Promise<WebDomain> | undefined;

/** The Redis-backed stores, connected on first use and shared by all requests. */
export function webDomain(): Promise<WebDomain> {
  domain ??= (async () => {
    const config = webConfig();
    const redis = await connectRedis(config.REDIS_URL, (error) => logger.error({ err: error }, 'redis error'));
    return {
      accounts: new AccountStore(redis, logger),
      sessions: new SessionStore(redis, logger),
      sites: new SiteStore(redis, logger),
      signins: new SigninStore(redis, config.SIGNIN_TTL_HOURS * 3600),
      audit: new AuditLog(redis),
    };
  })();
  domain.catch(() => (domain = undefined));
  return domain;
}
