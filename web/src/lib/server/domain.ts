import { pino } from 'pino';
import {
  AccountStore,
  AuditLog,
  SessionChatLog,
  SessionStore,
  SigninStore,
  SiteStore,
  connectRedis,
  ensureSchema,
  type RedisClient,
} from '@telemed/domain';
import { SigninGuard, TotpChallengeStore, TotpEnrolmentStore, TotpVerifier } from '@telemed/domain';
import { CalendarFeedStore } from '@telemed/domain';
import { webConfig } from './config.ts';

export const logger = pino({ name: 'web', level: process.env.LOG_LEVEL ?? 'info' });

export interface WebDomain {
  redis: RedisClient;
  accounts: AccountStore;
  sessions: SessionStore;
  chat: SessionChatLog;
  sites: SiteStore;
  signins: SigninStore;
  audit: AuditLog;
  signinGuard: SigninGuard;
  totpVerifier: TotpVerifier;
  totpChallenges: TotpChallengeStore;
  totpEnrolments: TotpEnrolmentStore;
  calendarFeeds: CalendarFeedStore;
}

let domain: Promise<WebDomain> | undefined;

/** The Redis-backed stores, connected on first use and shared by all requests. */
export function webDomain(): Promise<WebDomain> {
  domain ??= (async () => {
    const config = webConfig();
    const redis = await connectRedis(config.REDIS_URL, (error) => logger.error({ err: error }, 'redis error'));
    await ensureSchema(redis, logger);
    return {
      redis,
      accounts: new AccountStore(redis, logger),
      sessions: new SessionStore(redis, logger),
      chat: new SessionChatLog(redis, logger),
      sites: new SiteStore(redis, logger),
      signins: new SigninStore(redis, config.SIGNIN_TTL_HOURS * 3600),
      audit: new AuditLog(redis),
      signinGuard: new SigninGuard(redis, {
        maxFailures: config.SIGNIN_MAX_FAILURES,
        failureWindowSeconds: config.SIGNIN_FAILURE_WINDOW_MINUTES * 60,
        lockSeconds: config.SIGNIN_LOCK_MINUTES * 60,
        addressMaxAttempts: config.SIGNIN_ADDRESS_MAX_ATTEMPTS,
        addressWindowSeconds: config.SIGNIN_ADDRESS_WINDOW_MINUTES * 60,
      }),
      totpVerifier: new TotpVerifier(redis),
      totpChallenges: new TotpChallengeStore(redis),
      totpEnrolments: new TotpEnrolmentStore(redis),
      calendarFeeds: new CalendarFeedStore(redis),
    };
  })();
  domain.catch(() => (domain = undefined));
  return domain;
}
