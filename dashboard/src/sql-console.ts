/**
 * The SQL console: a read-only SELECT over the site's rows (the Worker enforces read-only,
 * the site filter and the row / time limits), a result table and a CSV download.
 */
import {
  DEFAULT_SQL_MAX_ROWS,
  MAX_SQL_MAX_ROWS,
  SQL_MAX_EXECUTION_SECONDS,
  type SqlResponse,
  sqlResponseSchema,
} from "../../protocol/history";
import { apiPost } from "./api";
import { toCsv } from "./csv";
import { downloadFile } from "./download-file";
import { h, setText } from "./dom";
import { formatCount } from "./format";

export const EXAMPLE_QUERY = `SELECT type, count() AS events, uniqExact(visitor_id) AS visitors
FROM events
WHERE ts > now() - INTERVAL 1 DAY
GROUP BY type
ORDER BY events DESC`;

/** Rows drawn in the page; the CSV always holds every returned row. */
const RENDERED_ROWS = 500;

export interface SqlSource {
  site(): string;
  token(): string | null;
}

function cellText(cell: unknown): string {
  if (cell === null || cell === undefined) return "NULL";
  return typeof cell === "object" ? JSON.stringify(cell) : String(cell);
}

export class SqlConsole {
  private readonly query: HTMLTextAreaElement;
  private readonly maxRows: HTMLInputElement;
  private readonly runButton: HTMLButtonElement;
  private readonly downloadButton: HTMLButtonElement;
  private readonly status: HTMLElement;
  private readonly result: HTMLElement;
  private lastResult: SqlResponse | null = null;

  constructor(
    container: HTMLElement,
    private readonly source: SqlSource,
  ) {
    this.query = h("textarea", {
      id: "sql-query",
      rows: "7",
      spellcheck: "false",
      autocapitalize: "off",
      "aria-describedby": "sql-help",
    });
    this.query.value = EXAMPLE_QUERY;
    this.maxRows = h("input", {
      id: "sql-max-rows",
      type: "number",
      min: "1",
      max: String(MAX_SQL_MAX_ROWS),
      value: String(DEFAULT_SQL_MAX_ROWS),
    });
    this.runButton = h("button", { type: "submit" }, "Run query");
    this.downloadButton = h("button", { type: "button", disabled: "" }, "Download CSV");
    this.status = h("p", { class: "status-line", role: "status", "aria-live": "polite", "data-testid": "sql-status" });
    this.result = h("div", { class: "table-scroll", tabindex: "0", role: "region", "aria-label": "Query result" });
    const form = h(
      "form",
      { class: "sql-form" },
      h("label", { for: "sql-query" }, "SQL query (SELECT only)"),
      this.query,
      h(
        "p",
        { id: "sql-help", class: "muted" },
        `Tables: events, sessions, window_metrics — only this site's rows. Read-only, at most ${SQL_MAX_EXECUTION_SECONDS} s. Ctrl+Enter runs.`,
      ),
      h(
        "div",
        { class: "toolbar" },
        h("label", { for: "sql-max-rows" }, "Max rows"),
        this.maxRows,
        this.runButton,
        this.downloadButton,
      ),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      void this.run();
    });
    this.query.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        void this.run();
      }
    });
    this.downloadButton.addEventListener("click", () => this.download());
    container.replaceChildren(form, this.status, this.result);
  }

  async run(): Promise<void> {
    const token = this.source.token();
    if (token === null) {
      setText(this.status, "Enter a read token above first.");
      return;
    }
    const maxRows = Math.min(MAX_SQL_MAX_ROWS, Math.max(1, Number(this.maxRows.value) || DEFAULT_SQL_MAX_ROWS));
    this.runButton.disabled = true;
    setText(this.status, "Running…");
    try {
      const answer = await apiPost(
        "/v1/sql",
        { site: this.source.site(), query: this.query.value, max_rows: maxRows },
        sqlResponseSchema,
        token,
      );
      this.lastResult = answer;
      this.renderResult(answer);
      this.downloadButton.disabled = false;
      const shown = answer.rows.length > RENDERED_ROWS ? ` (showing the first ${RENDERED_ROWS}; the CSV has all)` : "";
      setText(this.status, `${formatCount(answer.row_count)} rows in ${Math.round(answer.elapsed_ms)} ms${shown}`);
    } catch (error) {
      this.lastResult = null;
      this.downloadButton.disabled = true;
      this.result.replaceChildren();
      setText(this.status, `Refused: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      this.runButton.disabled = false;
    }
  }

  private renderResult(answer: SqlResponse): void {
    const head = h(
      "thead",
      {},
      h("tr", {}, ...answer.columns.map((column) => h("th", { scope: "col", title: column.type }, column.name))),
    );
    const body = h(
      "tbody",
      {},
      ...answer.rows
        .slice(0, RENDERED_ROWS)
        .map((row) => h("tr", {}, ...row.map((cell) => h("td", {}, cellText(cell))))),
    );
    this.result.replaceChildren(h("table", { "data-testid": "sql-result" }, h("caption", {}, "Result"), head, body));
  }

  private download(): void {
    const answer = this.lastResult;
    if (answer === null) return;
    const csv = toCsv(
      answer.columns.map((column) => column.name),
      answer.rows,
    );
    downloadFile(`edgepulse-${answer.site}-${new Date().toISOString().slice(0, 19).replace(/:/g, "")}.csv`, csv);
  }
}
