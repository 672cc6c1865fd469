/**
 * The route span of every request when tracing is on: child of the caller's `traceparent`
 * (a malformed one is ignored and the request starts a new trace), sampled by the configured
 * sampler, ended with the answer's status, and exported from `waitUntil`, so a recorded
 * request answers as fast as any other and an exporter that is slow or down costs nothing here.
 * Routes read `c.get("trace")` to pass the context on (POST /v1/events hands it to its shard).
 */
import type { MiddlewareHandler } from "hono";
import { routePath } from "hono/route";
import { tracerFor } from "../tracing/tracer";
import { parseTraceparent } from "../tracing/trace-context";
import type { AppEnv } from "./app-env";

export const traceRequest: MiddlewareHandler<AppEnv> = async (c, next) => {
  c.set("trace", null);
  const tracer = tracerFor(c.get("config").tracing);
  if (tracer === null) return next();
  const span = tracer.startEntrySpan(c.req.method, "server", parseTraceparent(c.req.header("traceparent")));
  if (span === null) return next();
  c.set("trace", span.context);
  try {
    await next();
  } finally {
    // The route's pattern, not the path, so names stay few ("POST /v1/events"); the method alone when nothing matched.
    const route = routePath(c);
    span.setAttribute("http.request.method", c.req.method).setAttribute("url.path", c.req.path);
    span.setAttribute("http.response.status_code", c.res.status);
    if (route !== "*" && route !== "/*") span.setAttribute("http.route", route).rename(`${c.req.method} ${route}`);
    if (c.res.status >= 500) span.setError(`HTTP ${c.res.status}`);
    span.end();
    try {
      c.executionCtx.waitUntil(tracer.flush());
    } catch {
      // No execution context (app.request in a test): the spans wait for the next flush.
    }
  }
};
