import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import type { AppEnv } from "./app-env";
import { requireAdminAccess, requireReadAccess } from "./auth";
import { loadConfig } from "../common/config";
import { handleError } from "./errors";

const ADMIN = "admin-token-for-tests-0123456789";
const SHOP_TOKEN = "shop-token-for-tests-0123456789";
const vars = {
  ADMIN_TOKEN: ADMIN,
  SITES: JSON.stringify([
    { key: "shop", origins: [], token: SHOP_TOKEN },
    { key: "blog", origins: [] },
  ]),
};

const app = new Hono<AppEnv>();
app.use("*", async (c, next) => {
  c.set("config", loadConfig(vars));
  await next();
});
app.get("/read/:site", async (c) => c.json({ access: await requireReadAccess(c, c.req.param("site")) }));
app.get("/upgrade/:site", async (c) =>
  c.json({ access: await requireReadAccess(c, c.req.param("site"), "header-or-query") }),
);
app.get("/admin", async (c) => {
  await requireAdminAccess(c);
  return c.json({ access: "admin" });
});
app.onError(handleError);

async function call(path: string, token?: string): Promise<{ status: number; body: unknown }> {
  const headers: Record<string, string> = token === undefined ? {} : { Authorization: `Bearer ${token}` };
  const response = await app.request(path, { headers });
  return { status: response.status, body: await response.json() };
}

describe("requireReadAccess", () => {
  it("lets the admin token read any site", async () => {
    expect(await call("/read/shop", ADMIN)).toEqual({ status: 200, body: { access: "admin" } });
    expect(await call("/read/blog", ADMIN)).toEqual({ status: 200, body: { access: "admin" } });
  });

  it("lets a site token read only its own site", async () => {
    expect(await call("/read/shop", SHOP_TOKEN)).toEqual({ status: 200, body: { access: "site" } });
    expect((await call("/read/blog", SHOP_TOKEN)).status).toBe(403);
  });

  it("takes the token from ?token= only where the route asks for it (the live upgrade)", async () => {
    expect((await call(`/upgrade/shop?token=${SHOP_TOKEN}`)).status).toBe(200);
    expect((await call(`/read/shop?token=${SHOP_TOKEN}`)).status).toBe(401);
  });

  it("answers 401 without a token and 403 with a wrong one", async () => {
    expect(await call("/read/shop")).toMatchObject({ status: 401, body: { error: { code: "unauthorized" } } });
    expect(await call("/read/shop", "wrong-token")).toMatchObject({
      status: 403,
      body: { error: { code: "forbidden" } },
    });
  });
});

describe("requireAdminAccess", () => {
  it("accepts only the admin token", async () => {
    expect((await call("/admin", ADMIN)).status).toBe(200);
    expect((await call("/admin", SHOP_TOKEN)).status).toBe(403);
    expect((await call("/admin")).status).toBe(401);
  });
});
