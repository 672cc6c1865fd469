/**
 * `npm run sites -- <command>`: the site registry from a terminal, against a local or deployed
 * collector (`--url`, default http://127.0.0.1:8787; admin token from EDGEPULSE_ADMIN_TOKEN,
 * never an argument, so it stays off the process list and shell history).
 *
 *   add <key> --origin <origin>… [--time-zone <tz>] [--scope read,sql]   site + first token + script tag
 *   list                                                                  sites
 *   update <key> [--origin <origin>…] [--time-zone <tz>]                 origins / time zone
 *   tokens <key>                                                          tokens (never the secrets)
 *   token <key> [--scope read,sql] [--label <text>]                       another token
 *   rotate <key> [--token <id>]                                           new secret, same scopes; the old one revoked
 *   revoke <key> --token <id>                                             revoke a token
 *   delete <key> --yes                                                    the site and all its data
 *   export <key> [--format ndjson|csv]                                    raw events to stdout
 */
import { parseArgs } from "node:util";
import { type TokenScope, tokenScopeSchema } from "../protocol/sites";
import { SitesApi, SitesApiError } from "./sites-api";

const DEFAULT_URL = "http://127.0.0.1:8787";
const USAGE = `usage: npm run sites -- <add|list|update|tokens|token|rotate|revoke|delete|export> [key] [options]
  --url <collector>     default ${DEFAULT_URL} (or EDGEPULSE_URL)
  --origin <origin>     repeatable (add, update)
  --time-zone <tz>      IANA time zone (add, update)
  --scope <a,b>         token scopes: read, sql, alerts (add: read,sql; token: read)
  --token <id>          token id (rotate, revoke)
  --label <text>        token label
  --format ndjson|csv   export format
  --yes                 confirm delete
The admin token is read from EDGEPULSE_ADMIN_TOKEN.`;

class UsageError extends Error {}

function scopes(text: string | undefined, fallback: TokenScope[]): TokenScope[] {
  if (text === undefined) return fallback;
  return text.split(",").map((part) => {
    const scope = tokenScopeSchema.safeParse(part.trim());
    if (!scope.success) throw new UsageError(`unknown scope "${part}" (read, sql, alerts)`);
    return scope.data;
  });
}

function scriptTag(collectorUrl: string, site: string): string {
  return `<script defer src="${collectorUrl.replace(/\/+$/, "")}/ep.js" data-site="${site}"></script>`;
}

async function run(argv: string[], print: (line: string) => void, env: NodeJS.ProcessEnv): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: "string" },
      origin: { type: "string", multiple: true },
      "time-zone": { type: "string" },
      scope: { type: "string" },
      token: { type: "string" },
      label: { type: "string" },
      format: { type: "string" },
      yes: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  const [command, key, extra] = positionals;
  if (values.help === true || command === undefined) throw new UsageError(USAGE);
  const url = values.url ?? env.EDGEPULSE_URL ?? DEFAULT_URL;
  const adminToken = env.EDGEPULSE_ADMIN_TOKEN;
  if (adminToken === undefined || adminToken === "")
    throw new UsageError(
      "set EDGEPULSE_ADMIN_TOKEN to the collector's admin token (dev-admin-token under npm run dev)",
    );
  const api = new SitesApi(url, adminToken);
  const needKey = (): string => {
    if (key === undefined) throw new UsageError(`${command} needs a site key\n${USAGE}`);
    return key;
  };
  const tokenId = values.token ?? extra;

  switch (command) {
    case "add": {
      const site = await api.createSite({
        key: needKey(),
        origins: values.origin ?? [],
        ...(values["time-zone"] === undefined ? {} : { time_zone: values["time-zone"] }),
      });
      const token = await api.createToken(
        site.key,
        scopes(values.scope, ["read", "sql"]),
        values.label ?? "created by npm run sites",
      );
      print(`site ${site.key} created (origins: ${site.origins.join(", ") || "none"}, time zone ${site.time_zone})`);
      print(`token ${token.id} (${token.scopes.join(", ")}), shown only now:`);
      print(`  ${token.token}`);
      print("script tag:");
      print(`  ${scriptTag(url, site.key)}`);
      return;
    }
    case "list": {
      const sites = await api.listSites();
      for (const site of sites)
        print(`${site.key}\t${site.source}\t${site.time_zone}\t${site.origins.join(",") || "-"}`);
      if (sites.length === 0) print("no sites");
      return;
    }
    case "update": {
      const patch = {
        ...(values.origin === undefined ? {} : { origins: values.origin }),
        ...(values["time-zone"] === undefined ? {} : { time_zone: values["time-zone"] }),
      };
      const site = await api.updateSite(needKey(), patch);
      print(`site ${site.key} updated (origins: ${site.origins.join(", ") || "none"}, time zone ${site.time_zone})`);
      return;
    }
    case "tokens": {
      for (const token of await api.listTokens(needKey())) {
        print(
          `${token.id}\t${token.hint}…\t${token.scopes.join(",")}\t${token.revoked_at === null ? "active" : `revoked ${new Date(token.revoked_at).toISOString()}`}\t${token.label}`,
        );
      }
      return;
    }
    case "token": {
      const token = await api.createToken(needKey(), scopes(values.scope, ["read"]), values.label ?? "");
      print(`token ${token.id} (${token.scopes.join(", ")}), shown only now:`);
      print(`  ${token.token}`);
      return;
    }
    case "rotate": {
      const site = needKey();
      let id = tokenId;
      if (id === undefined) {
        const active = (await api.listTokens(site)).filter((token) => token.revoked_at === null);
        if (active.length !== 1)
          throw new UsageError(
            `site ${site} has ${active.length} active tokens; name one with --token <id> (npm run sites -- tokens ${site})`,
          );
        id = (active[0] as { id: string }).id;
      }
      const token = await api.rotateToken(site, id);
      print(`token ${id} revoked; new token ${token.id} (${token.scopes.join(", ")}), shown only now:`);
      print(`  ${token.token}`);
      return;
    }
    case "revoke": {
      if (tokenId === undefined) throw new UsageError("revoke needs --token <id> (npm run sites -- tokens <key>)");
      const token = await api.revokeToken(needKey(), tokenId);
      print(`token ${token.id} of ${token.site} revoked; it stops working within 5 s`);
      return;
    }
    case "delete": {
      const site = needKey();
      if (values.yes !== true)
        throw new UsageError(
          `delete removes site ${site}, its tokens, its ClickHouse rows and its live state for good; add --yes`,
        );
      const answer = await api.deleteSite(site);
      const rows = Object.entries(answer.deleted.clickhouse)
        .map(([table, count]) => `${table} ${count}`)
        .join(", ");
      print(
        `site ${site} deleted: registry ${answer.deleted.registry.site ? "entry" : "(no entry)"} and ${answer.deleted.registry.tokens} token(s); ClickHouse rows: ${rows || "none"}; ${answer.deleted.durable_objects.ingest_shards} ingest shard(s) and the live hub purged`,
      );
      return;
    }
    case "export": {
      const format = values.format ?? "ndjson";
      if (format !== "ndjson" && format !== "csv") throw new UsageError("--format is ndjson or csv");
      const stream = await api.exportEvents(needKey(), format);
      const reader = stream.getReader();
      for (let next = await reader.read(); !next.done; next = await reader.read()) process.stdout.write(next.value);
      return;
    }
    default:
      throw new UsageError(`unknown command "${command}"\n${USAGE}`);
  }
}

run(process.argv.slice(2), (line) => console.log(line), process.env).catch((error: unknown) => {
  if (error instanceof UsageError) console.error(error.message);
  else if (error instanceof SitesApiError) console.error(`error: ${error.code} (${error.status}): ${error.message}`);
  else console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = error instanceof UsageError ? 2 : 1;
});
