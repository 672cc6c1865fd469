/**
 * `/v1/alerts`: a site's alert rules, held and evaluated by the site's AlertEngine object.
 * The token must open the site (admin or the site's own token), as for every read route:
 * whoever reads a site's numbers may be alerted on them.
 *
 * - `GET    /v1/alerts?site`                     — `{ site, rules: AlertRule[] }` with each rule's state
 * - `POST   /v1/alerts`            `{site, …rule}` — 201 the new rule (a webhook secret is generated when none is given)
 * - `GET    /v1/alerts/:id?site`                 — the rule
 * - `PUT    /v1/alerts/:id`        `{site, …rule}` — replaces it (the secret is kept when none is given)
 * - `DELETE /v1/alerts/:id?site`                 — 204
 * - `GET    /v1/alerts/:id/firings?site&limit`   — `{ firings }`, newest first
 * - `GET    /v1/alerts/:id/evaluations?site&limit` — `{ evaluations }`, newest first: what each sealed window measured
 *
 * Shapes: protocol/alerts.ts. Bad input is a 400 naming the failing field; an unknown rule 404.
 */
import { Hono, type Context } from "hono";
import { z } from "zod";
import { alertRuleRequestSchema, siteKeySchema } from "../../protocol";
import { MAX_RULES } from "../../durable-objects/alerts/alert-store";
import type { AppEnv } from "../app-env";
import { requireReadAccess } from "../auth";
import { decodeUtf8, readBoundedBody } from "../bounded-body";
import { ApiError } from "../errors";
import { requireSite } from "../site-directory";

const MAX_RULE_BODY_BYTES = 16 * 1024;
const siteQuerySchema = z.object({ site: siteKeySchema });
const historyQuerySchema = siteQuerySchema.extend({ limit: z.coerce.number().int().min(1).max(500).default(50) });
const ruleIdSchema = z.string().regex(/^r_[0-9a-f]{16}$/, "not a rule id");

async function engineFor(c: Context<AppEnv>, site: string) {
  // Rules are managed with a token scoped for alerts (seed tokens and the admin token have every scope).
  await requireReadAccess(c, site, "header", "alerts");
  await requireSite(c, site);
  return c.env.ALERT_ENGINE.get(c.env.ALERT_ENGINE.idFromName(site));
}

function parseQuery<T extends z.ZodType>(c: Context<AppEnv>, schema: T): z.infer<T> {
  const query = schema.safeParse(c.req.query());
  if (!query.success) throw ApiError.fromZod(query.error, "invalid query");
  return query.data;
}

function ruleId(c: Context<AppEnv>): string {
  const id = ruleIdSchema.safeParse(c.req.param("id"));
  if (!id.success) throw new ApiError(404, "not_found", "no such alert rule");
  return id.data;
}

async function parseRuleBody(c: Context<AppEnv>) {
  const text = decodeUtf8(await readBoundedBody(c.req.raw, MAX_RULE_BODY_BYTES));
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw ApiError.invalidPayload("the body must be a JSON alert rule");
  }
  const request = alertRuleRequestSchema.safeParse(json);
  if (!request.success) throw ApiError.fromZod(request.error);
  const { site, ...rule } = request.data;
  const siteKey = siteKeySchema.safeParse(site);
  if (!siteKey.success) throw ApiError.fromZod(siteKey.error);
  return { site: siteKey.data, rule };
}

function notFound(): never {
  throw new ApiError(404, "not_found", "no such alert rule");
}

export const alertsRoutes = new Hono<AppEnv>();

alertsRoutes.get("/", async (c) => {
  const { site } = parseQuery(c, siteQuerySchema);
  const engine = await engineFor(c, site);
  return c.json({ site, rules: await engine.listRules(site) });
});

alertsRoutes.post("/", async (c) => {
  const { site, rule } = await parseRuleBody(c);
  const engine = await engineFor(c, site);
  const created = await engine.createRule(site, rule);
  if (created === null) throw ApiError.invalidPayload(`a site has at most ${MAX_RULES} alert rules; delete one first`);
  return c.json(created, 201);
});

alertsRoutes.get("/:id", async (c) => {
  const id = ruleId(c);
  const { site } = parseQuery(c, siteQuerySchema);
  const engine = await engineFor(c, site);
  return c.json((await engine.getRule(site, id)) ?? notFound());
});

alertsRoutes.put("/:id", async (c) => {
  const id = ruleId(c);
  const { site, rule } = await parseRuleBody(c);
  const engine = await engineFor(c, site);
  return c.json((await engine.updateRule(site, id, rule)) ?? notFound());
});

alertsRoutes.delete("/:id", async (c) => {
  const id = ruleId(c);
  const { site } = parseQuery(c, siteQuerySchema);
  const engine = await engineFor(c, site);
  if (!(await engine.deleteRule(site, id))) notFound();
  return c.body(null, 204);
});

alertsRoutes.get("/:id/firings", async (c) => {
  const id = ruleId(c);
  const { site, limit } = parseQuery(c, historyQuerySchema);
  const engine = await engineFor(c, site);
  return c.json({ site, rule_id: id, firings: (await engine.firings(site, id, limit)) ?? notFound() });
});

alertsRoutes.get("/:id/evaluations", async (c) => {
  const id = ruleId(c);
  const { site, limit } = parseQuery(c, historyQuerySchema);
  const engine = await engineFor(c, site);
  return c.json({ site, rule_id: id, evaluations: (await engine.evaluations(site, id, limit)) ?? notFound() });
});
