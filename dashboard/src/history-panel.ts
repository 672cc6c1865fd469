/**
 * One history panel: a card with a table of one `/v1/history/*` resource and a CSV download of
 * the table as shown (the range and filters it was loaded with are in the file name). A route
 * this server does not have (404) makes the panel say "Not available" instead of failing the
 * view, so the dashboard runs against a Worker without it.
 */
import { ApiRequestError } from "./api";
import { toCsv } from "./csv";
import { type Column, DataTable } from "./data-table";
import { h } from "./dom";
import { downloadFile } from "./download-file";

export interface PanelOptions<T> {
  /** Card title, table caption and the CSV's name. */
  title: string;
  /** The resource's slug, for test ids and file names. */
  slug: string;
  columns: readonly Column<T>[];
  /** Filter by this row (a click on its first cell); absent for panels that cannot filter. */
  pick?: { label(row: T): string; onPick(row: T): void };
  wide?: boolean;
  /** Controls under the table (the Goals panel's page-goal form). */
  extra?: HTMLElement;
}

export const NOT_AVAILABLE = "Not available on this server";

export class HistoryPanel<T> {
  readonly element: HTMLElement;
  private readonly table: DataTable<T>;
  private readonly download: HTMLButtonElement;
  /** What the shown rows cover, for the file name. */
  private scope = "";

  constructor(private readonly options: PanelOptions<T>) {
    this.table = new DataTable<T>(options.title, options.columns, "No data", options.pick);
    this.download = h(
      "button",
      { type: "button", class: "csv-download", "aria-label": `Download ${options.title} as CSV`, disabled: "" },
      "CSV",
    );
    this.download.addEventListener("click", () => this.saveCsv());
    this.element = h(
      "section",
      { class: options.wide ? "card wide" : "card", "data-testid": `panel-${options.slug}` },
      h("div", { class: "card-head" }, h("h3", {}, options.title), this.download),
      this.table.element,
      options.extra,
    );
  }

  /** Rows arrived for `scope` (e.g. `demo-2026-11-01-2026-11-30-filtered`). */
  show(rows: readonly T[], scope: string): void {
    this.scope = scope;
    this.table.update(rows);
    this.download.disabled = false;
  }

  /** Shows why there are no rows; answers whether the failure is worth reporting in the status line. */
  fail(error: unknown): boolean {
    this.download.disabled = true;
    if (error instanceof ApiRequestError && error.status === 404) {
      this.table.showMessage(NOT_AVAILABLE);
      return false;
    }
    this.table.showMessage(error instanceof Error ? error.message : String(error));
    return true;
  }

  csv(): string {
    const { header, rows } = this.table.shown();
    return toCsv(header, rows);
  }

  private saveCsv(): void {
    downloadFile(`edgepulse-${this.options.slug}-${this.scope}.csv`, this.csv());
  }
}
