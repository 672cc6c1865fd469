/**
 * Answers of `/v1/history/{entry-pages,exit-pages,goals}`, read leniently: these routes and
 * their schemas are built beside this dashboard (a separate change to the Worker and
 * protocol/), so only the fields the panels show are required and the rest may be absent.
 * Once protocol/ carries their schemas, those replace these.
 */
import { z } from "zod";
import { historyRangeSchema } from "../../protocol/history";

const count = z.coerce.number().min(0);
const amount = z.coerce.number();

/** Every history answer may name the site's time zone, which ranges and buckets follow. */
export const timeZoneField = { time_zone: z.string().optional() };

export const landingPageRowSchema = z.object({
  path: z.string(),
  sessions: count,
  visitors: count.optional(),
  bounce_rate: amount.optional(),
  conversion_rate: amount.optional(),
  revenue: amount.optional(),
});
export type LandingPageRow = z.infer<typeof landingPageRowSchema>;
export const landingPagesSchema = historyRangeSchema.extend({ ...timeZoneField, rows: z.array(landingPageRowSchema) });

/** A goal: a custom event by name (`kind` "event") or a page pattern (`kind` "page"). */
export const goalRowSchema = z
  .object({
    goal: z.string().optional(),
    name: z.string().optional(),
    kind: z.string().optional(),
    type: z.string().optional(),
    visitors: count.optional(),
    conversions: count,
    conversion_rate: amount.optional(),
    revenue: amount.optional(),
  })
  .transform((row) => ({
    goal: row.goal ?? row.name ?? "",
    kind: row.kind ?? row.type ?? "event",
    visitors: row.visitors,
    conversions: row.conversions,
    conversion_rate: row.conversion_rate,
    revenue: row.revenue,
  }));
export type GoalRow = z.infer<typeof goalRowSchema>;
export const goalsSchema = historyRangeSchema.extend({ ...timeZoneField, rows: z.array(goalRowSchema) });
