/**
 * A typed client of the collector's site registry API (`/v1/admin/sites`), for the CLI and
 * the tests. Every answer is parsed with its protocol schema; a refusal becomes a
 * `SitesApiError` carrying the collector's error code and message.
 */
import { z } from "zod";
import { errorResponseSchema } from "../protocol/responses";
import {
  type CreateSite,
  type TokenScope,
  type UpdateSite,
  createdTokenSchema,
  siteDeletionSchema,
  siteSchema,
  tokenInfoSchema,
} from "../protocol/sites";

const sitesAnswer = z.object({ sites: siteSchema.array() });
const tokensAnswer = z.object({ tokens: tokenInfoSchema.array() });

export class SitesApiError extends Error {
  override name = "SitesApiError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class SitesApi {
  private readonly base: string;

  constructor(
    url: string,
    private readonly adminToken: string,
  ) {
    this.base = url.replace(/\/+$/, "");
  }

  private async request<T extends z.ZodType>(
    method: string,
    path: string,
    schema: T,
    body?: unknown,
  ): Promise<z.infer<T>> {
    const headers: Record<string, string> = { Authorization: `Bearer ${this.adminToken}` };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(`${this.base}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new SitesApiError(
        response.status,
        "invalid_answer",
        `${method} ${path} answered ${response.status} with a body that is not JSON: ${text.slice(0, 200)}`,
      );
    }
    if (!response.ok) {
      const error = errorResponseSchema.safeParse(json);
      if (!error.success)
        throw new SitesApiError(response.status, "invalid_answer", `${method} ${path} answered ${response.status}`);
      const issues = (error.data.error.issues ?? []).map((issue) => `\n  ${issue.path}: ${issue.message}`).join("");
      throw new SitesApiError(response.status, error.data.error.code, `${error.data.error.message}${issues}`);
    }
    return schema.parse(json);
  }

  async listSites() {
    return (await this.request("GET", "/v1/admin/sites", sitesAnswer)).sites;
  }

  createSite(input: Partial<CreateSite> & { key: string }) {
    return this.request("POST", "/v1/admin/sites", siteSchema, input);
  }

  getSite(key: string) {
    return this.request("GET", `/v1/admin/sites/${encodeURIComponent(key)}`, siteSchema);
  }

  updateSite(key: string, patch: UpdateSite) {
    return this.request("PATCH", `/v1/admin/sites/${encodeURIComponent(key)}`, siteSchema, patch);
  }

  deleteSite(key: string) {
    return this.request("DELETE", `/v1/admin/sites/${encodeURIComponent(key)}`, siteDeletionSchema);
  }

  async listTokens(key: string) {
    return (await this.request("GET", `/v1/admin/sites/${encodeURIComponent(key)}/tokens`, tokensAnswer)).tokens;
  }

  createToken(key: string, scopes: TokenScope[], label = "") {
    return this.request("POST", `/v1/admin/sites/${encodeURIComponent(key)}/tokens`, createdTokenSchema, {
      scopes,
      label,
    });
  }

  revokeToken(key: string, id: string) {
    return this.request(
      "DELETE",
      `/v1/admin/sites/${encodeURIComponent(key)}/tokens/${encodeURIComponent(id)}`,
      tokenInfoSchema,
    );
  }

  rotateToken(key: string, id: string) {
    return this.request(
      "POST",
      `/v1/admin/sites/${encodeURIComponent(key)}/tokens/${encodeURIComponent(id)}/rotate`,
      createdTokenSchema,
    );
  }

  /** The raw export as a stream (NDJSON or CSV). */
  async exportEvents(key: string, format: "ndjson" | "csv"): Promise<ReadableStream<Uint8Array>> {
    const response = await fetch(`${this.base}/v1/admin/sites/${encodeURIComponent(key)}/export?format=${format}`, {
      headers: { Authorization: `Bearer ${this.adminToken}` },
    });
    if (!response.ok || response.body === null) {
      const error = errorResponseSchema.safeParse(await response.json().catch(() => null));
      throw new SitesApiError(
        response.status,
        error.success ? error.data.error.code : "invalid_answer",
        error.success ? error.data.error.message : `export answered ${response.status}`,
      );
    }
    return response.body;
  }
}
