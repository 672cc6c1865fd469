/**
 * The site switcher: the sites the token may read (`GET /v1/sites`), in a select beside the
 * settings. `refresh()` also tells whether the token still opens anything: the dashboard calls
 * it every few seconds, so a revoked token is noticed even while the live socket stays open.
 */
import { type ReadableSites, readableSitesSchema } from "../../protocol/sites";
import { apiGet } from "./api";
import { h } from "./dom";

export class SiteSwitcher {
  constructor(
    private readonly select: HTMLSelectElement,
    onPick: (site: string) => void,
  ) {
    select.addEventListener("change", () => {
      if (select.value !== "") onPick(select.value);
    });
  }

  /** Loads the token's sites and shows them, `current` selected; throws ApiRequestError when refused. */
  async refresh(token: string, current: string): Promise<ReadableSites> {
    const answer = await apiGet("/v1/sites", {}, readableSitesSchema, token);
    const keys = answer.sites.map((site) => site.key);
    const shown = [...this.select.options].map((option) => option.value);
    if (keys.join("\n") !== shown.join("\n")) {
      this.select.replaceChildren(...keys.map((key) => h("option", { value: key }, key)));
    }
    this.select.value = keys.includes(current) ? current : "";
    this.select.hidden = keys.length === 0;
    return answer;
  }
}
