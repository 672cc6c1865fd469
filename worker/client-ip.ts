/**
 * The client's IP address, only as an input to the cookieless visitor hash. Callers must
 * never store or log it (docs/design.md, Privacy).
 */
export function clientIp(headers: Headers): string {
  const connecting = headers.get("CF-Connecting-IP")?.trim();
  if (connecting) return connecting;
  // Behind another proxy (local tooling, tests): the first hop is the original client.
  const forwarded = headers.get("X-Forwarded-For")?.split(",")[0]?.trim();
  return forwarded ?? "";
}
