import { Hono } from "hono";
import type { AppEnv } from "../app-env";

// TODO(owner): routes for this resource.
export const sdkScriptRoutes = new Hono<AppEnv>();
