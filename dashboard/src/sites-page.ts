/**
 * The Sites page (admin token only): create a site (with a first read+sql token and its
 * script tag, shown once), edit a site's origins, and list, add and revoke its tokens.
 * Sites from the SITES var are listed read-only.
 */
import { z } from "zod";
import { type Site, type TokenInfo, createdTokenSchema, siteSchema, tokenInfoSchema } from "../../protocol/sites";
import { ApiRequestError, apiGet, apiSend } from "./api";
import { h, setText } from "./dom";

export interface SitesSource {
  token(): string | null;
}

const sitesListSchema = z.object({ sites: siteSchema.array() });
const tokensListSchema = z.object({ tokens: tokenInfoSchema.array() });

function origins(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((part) => part.trim())
    .filter((part) => part !== "");
}

function scriptTag(site: string): string {
  return `<script defer src="${location.origin}/ep.js" data-site="${site}"></script>`;
}

export class SitesPage {
  private readonly status: HTMLElement;
  private readonly created: HTMLElement;
  private readonly list: HTMLElement;

  constructor(
    container: HTMLElement,
    private readonly source: SitesSource,
    private readonly onSitesChanged: () => void,
  ) {
    const key = h("input", {
      id: "new-site-key",
      required: "",
      autocomplete: "off",
      spellcheck: "false",
      placeholder: "shop",
    });
    const originInput = h("input", {
      id: "new-site-origins",
      autocomplete: "off",
      spellcheck: "false",
      placeholder: "https://shop.example",
      size: "32",
    });
    const timeZone = h("input", {
      id: "new-site-time-zone",
      autocomplete: "off",
      value: Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC",
    });
    const form = h(
      "form",
      { class: "toolbar", "aria-label": "New site" },
      h("label", { for: "new-site-key" }, "Site key"),
      key,
      h("label", { for: "new-site-origins" }, "Origins"),
      originInput,
      h("label", { for: "new-site-time-zone" }, "Time zone"),
      timeZone,
      h("button", { type: "submit" }, "Create site"),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      void this.create(key.value.trim(), origins(originInput.value), timeZone.value.trim());
    });
    this.status = h("p", {
      class: "status-line",
      role: "status",
      "aria-live": "polite",
      "data-testid": "sites-status",
    });
    this.created = h("div", { "data-testid": "sites-created" });
    this.list = h("div", { class: "table-scroll", role: "region", "aria-label": "Sites" });
    container.replaceChildren(
      h("div", { class: "card" }, h("h3", {}, "New site"), form, this.status, this.created),
      h("div", { class: "card" }, h("h3", {}, "Sites"), this.list),
    );
  }

  private async call<T>(run: (token: string) => Promise<T>): Promise<T | null> {
    const token = this.source.token();
    if (token === null) {
      setText(this.status, "Enter the admin token above first.");
      return null;
    }
    try {
      return await run(token);
    } catch (error) {
      setText(this.status, error instanceof ApiRequestError ? `${error.code}: ${error.message}` : String(error));
      return null;
    }
  }

  async load(): Promise<void> {
    const sites = await this.call(async (token) => (await apiGet("/v1/admin/sites", {}, sitesListSchema, token)).sites);
    if (sites === null) return;
    const rows = await Promise.all(sites.map((site) => this.siteRow(site)));
    this.list.replaceChildren(
      h(
        "table",
        {},
        h(
          "thead",
          {},
          h("tr", {}, h("th", {}, "Site"), h("th", {}, "Origins"), h("th", {}, "Time zone"), h("th", {}, "Tokens")),
        ),
        h("tbody", {}, ...rows),
      ),
    );
  }

  private async siteRow(site: Site): Promise<HTMLTableRowElement> {
    if (site.source === "config") {
      return h(
        "tr",
        { "data-testid": `site-row-${site.key}` },
        h("td", {}, site.key),
        h("td", {}, site.origins.join(", ")),
        h("td", {}, site.time_zone),
        h("td", { class: "muted" }, "from SITES (read-only)"),
      );
    }
    const originInput = h("input", {
      "aria-label": `Origins of ${site.key}`,
      value: site.origins.join(", "),
      size: "32",
    });
    const save = h("button", { type: "button" }, "Save origins");
    save.addEventListener("click", () => {
      void this.call(async (token) => {
        await apiSend(
          "PATCH",
          `/v1/admin/sites/${site.key}`,
          { origins: origins(originInput.value) },
          siteSchema,
          token,
        );
        setText(this.status, `Origins of ${site.key} saved.`);
      });
    });
    const tokens =
      (await this.call(
        async (token) => (await apiGet(`/v1/admin/sites/${site.key}/tokens`, {}, tokensListSchema, token)).tokens,
      )) ?? [];
    const newToken = h("button", { type: "button" }, "New token");
    newToken.addEventListener("click", () => void this.newToken(site.key));
    return h(
      "tr",
      { "data-testid": `site-row-${site.key}` },
      h("td", {}, site.key),
      h("td", {}, originInput, " ", save),
      h("td", {}, site.time_zone),
      h(
        "td",
        {},
        h("ul", { class: "token-list" }, ...tokens.map((token) => this.tokenItem(site.key, token))),
        newToken,
      ),
    );
  }

  private tokenItem(site: string, token: TokenInfo): HTMLLIElement {
    const label = `${token.hint}… (${token.scopes.join(", ")})`;
    if (token.revoked_at !== null) return h("li", { class: "muted" }, `${label} revoked`);
    const revoke = h(
      "button",
      { type: "button", "data-testid": `revoke-${token.id}`, "aria-label": `Revoke token ${token.hint}` },
      "Revoke",
    );
    revoke.addEventListener("click", () => {
      void this.call(async (admin) => {
        await apiSend("DELETE", `/v1/admin/sites/${site}/tokens/${token.id}`, undefined, tokenInfoSchema, admin);
        setText(this.status, `Token ${token.hint}… of ${site} revoked; it stops working within 5 s.`);
        await this.load();
      });
    });
    return h("li", { "data-token-id": token.id }, label, " ", revoke);
  }

  private showSecret(site: string, secret: string): void {
    const tokenBox = h("input", {
      readonly: "",
      value: secret,
      size: "50",
      "data-testid": "created-token",
      "aria-label": "New token",
    });
    const tagBox = h("textarea", {
      readonly: "",
      rows: "2",
      cols: "70",
      "data-testid": "created-script-tag",
      "aria-label": "Script tag",
    });
    tagBox.value = scriptTag(site);
    this.created.replaceChildren(
      h("p", {}, `Token for ${site}, shown only now (it is stored as a hash):`),
      tokenBox,
      h("p", {}, "Script tag for the site's pages:"),
      tagBox,
    );
  }

  private async create(key: string, originList: string[], timeZone: string): Promise<void> {
    await this.call(async (token) => {
      const site = await apiSend(
        "POST",
        "/v1/admin/sites",
        { key, origins: originList, time_zone: timeZone || "UTC" },
        siteSchema,
        token,
      );
      const created = await apiSend(
        "POST",
        `/v1/admin/sites/${site.key}/tokens`,
        { scopes: ["read", "sql", "alerts"], label: "dashboard" },
        createdTokenSchema,
        token,
      );
      this.showSecret(site.key, created.token);
      setText(this.status, `Site ${site.key} created.`);
      this.onSitesChanged();
      await this.load();
    });
  }

  private async newToken(site: string): Promise<void> {
    await this.call(async (token) => {
      const created = await apiSend(
        "POST",
        `/v1/admin/sites/${site}/tokens`,
        { scopes: ["read", "sql", "alerts"], label: "dashboard" },
        createdTokenSchema,
        token,
      );
      this.showSecret(site, created.token);
      await this.load();
    });
  }
}
