import { z } from 'zod';
import { logLevelSetting, portSetting, readEnvConfig } from '@telemed/contract/server';

/** A source id becomes a cache directory name and appears in errors: short and path-safe. */
const sourceIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'letters, digits, `.`, `_`, `-`');
const aetSchema = z
  .string()
  .regex(/^[\x20-\x5b\x5d-\x7e]{1,16}$/, 'an AE title (1–16 characters, no backslash)')
  .trim();

export const dicomWebSourceSettingSchema = z.object({
  id: sourceIdSchema,
  kind: z.literal('dicomweb'),
  url: z.url({ protocol: /^https?$/ }),
});

export const dimseSourceSettingSchema = z.object({
  id: sourceIdSchema,
  kind: z.literal('dimse'),
  host: z.string().min(1).max(255),
  port: z.number().int().min(1).max(65535),
  calledAet: aetSchema,
  callingAet: aetSchema,
  retrieveMethod: z.enum(['c-get', 'c-move']),
  moveDestinationAet: aetSchema.optional(),
  maxAssociations: z.number().int().min(1).max(32).default(4),
  /**
   * C-MOVE only: the port of the proxy's own storage SCP, where the PACS sends the moved
   * instances. Explicit (never picked at random): the PACS's table of move destinations names it.
   */
  storageScpPort: z.number().int().min(1).max(65535).optional(),
  /** C-MOVE only: the AE title the storage SCP answers to; defaults to `moveDestinationAet`. */
  storageScpAet: aetSchema.optional(),
  /** C-MOVE only: the address the storage SCP listens on. */
  storageScpHost: z.string().min(1).max(255).default('0.0.0.0'),
});

/** A C-MOVE source must name its move destination and the port of the SCP that receives it. */
export function checkDimseRetrieveSetting(
  setting: { retrieveMethod: 'c-get' | 'c-move'; moveDestinationAet?: string; storageScpPort?: number },
  context: z.RefinementCtx,
): void {
  if (setting.retrieveMethod !== 'c-move') return;
  if (!setting.moveDestinationAet)
    context.addIssue({ code: 'custom', path: ['moveDestinationAet'], message: 'required for c-move' });
  if (setting.storageScpPort === undefined)
    context.addIssue({ code: 'custom', path: ['storageScpPort'], message: 'required for c-move' });
}

export const sourceSettingSchema = z.discriminatedUnion('kind', [
  dicomWebSourceSettingSchema,
  dimseSourceSettingSchema.superRefine(checkDimseRetrieveSetting),
]);
export type SourceSetting = z.infer<typeof sourceSettingSchema>;

/** `DICOM_SOURCES`: a JSON array of sources, ids unique; empty when unset. */
const sourcesSetting = z
  .string()
  .default('[]')
  .transform((text, context) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      context.addIssue({ code: 'custom', message: 'not JSON' });
      return z.NEVER;
    }
  })
  .pipe(
    z
      .array(sourceSettingSchema)
      .max(32)
      .refine(
        (sources) => new Set(sources.map((source) => source.id)).size === sources.length,
        'source ids must be unique',
      ),
  );

const dicomProxyConfigSchema = z
  .object({
    DICOM_PROXY_HOST: z.string().default('127.0.0.1'),
    DICOM_PROXY_PORT: portSetting(3003),
    LOG_LEVEL: logLevelSetting,
    DICOM_SOURCES: sourcesSetting,
    DICOM_CACHE_DIR: z.string().min(1).default('.cache/dicom-proxy'),
    DICOM_CACHE_MAX_BYTES: z.coerce
      .number()
      .int()
      .min(1024 ** 2)
      .default(20 * 1024 ** 3),
    /** Upstream timeout: for the answer to start, and between two body chunks. */
    DICOM_UPSTREAM_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
    /** Public DICOMweb root written into BulkDataURIs (else taken from the request's Host). */
    DICOM_PROXY_PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
    /** Verifies the viewer's bearer tokens (shared with the web server, which mints them). */
    AUTH_SECRET: z.string().min(32).optional(),
    /** The domain's Redis: the audit trail every image access goes to, and the prefetch jobs. */
    REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
    /**
     * `redis` (default): every image access is audited, so REDIS_URL is required. `off`: nothing
     * is recorded — for development and benchmarks only, and logged as such at every start.
     */
    DICOM_AUDIT: z.enum(['redis', 'off']).default('redis'),
  })
  .superRefine((config, context) => {
    if (config.DICOM_AUDIT === 'redis' && !config.REDIS_URL) {
      context.addIssue({
        code: 'custom',
        path: ['REDIS_URL'],
        message: 'required: every image access is audited (DICOM_AUDIT=off only for development)',
      });
    }
  });

export type DicomProxyConfig = z.infer<typeof dicomProxyConfigSchema>;

export function readDicomProxyConfig(env?: Record<string, string | undefined>): DicomProxyConfig {
  return readEnvConfig('dicom-proxy', dicomProxyConfigSchema, env);
}
