import { z } from 'zod';

/** The catalog's views (`docs/api.md`): what GET /api/v1/catalog lists of an entry. */

export const CATALOG_SOURCES = ['proximity', 'community-scripts'] as const;
export type CatalogSourceKind = (typeof CATALOG_SOURCES)[number];

/** The distributions a template may be of (what PVE's `ostype` knows and we can install on). */
export const TEMPLATE_OSES = ['debian', 'ubuntu', 'alpine', 'busybox'] as const;
export type TemplateOs = (typeof TEMPLATE_OSES)[number];

export const catalogSummarySchema = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  category: z.string(),
  icon: z.string().optional(),
  website: z.string(),
  source: z.enum(CATALOG_SOURCES),
  os: z.enum(TEMPLATE_OSES),
  version: z.string(),
  /** 0 for imported entries: a deploy makes the container, the app is the user's to install. */
  installSteps: z.int(),
  /** `web`: served at http://<name>.<domain>; `tcp`: a TCP service without a web UI. */
  kind: z.enum(['web', 'tcp']),
  /** The first port, where a TCP service is reached: `<name>.<domain>:<port>`. */
  port: z.int(),
  protocol: z.enum(['http', 'https', 'tcp']),
});
export type CatalogSummary = z.output<typeof catalogSummarySchema>;

export const catalogQuerySchema = z.strictObject({
  /** Words that must all occur in the id, name, description or category (any case). */
  search: z.string().max(200).optional(),
  /** Exactly this category (any case). */
  category: z.string().max(64).optional(),
  source: z.enum(CATALOG_SOURCES).optional(),
});
