/**
 * An accessible table (caption, column headers, scrollable on narrow screens) whose body is
 * rebuilt only when its rows changed, so a live update that changes nothing costs nothing.
 * With `pick`, each row's first cell is a button (keyboard and screen readers reach it), used
 * by the history view to filter by the row.
 */
import type { CsvCell } from "./csv";
import { type Child, h } from "./dom";

export interface Column<T> {
  label: string;
  cell(row: T): Child;
  numeric?: boolean;
  /** Extra class of the cell, e.g. a Web Vitals rating. */
  cellClass?(row: T): string | undefined;
}

export class DataTable<T> {
  readonly element: HTMLElement;
  private readonly body: HTMLTableSectionElement;
  private lastKey = "";

  constructor(
    caption: string,
    private readonly columns: readonly Column<T>[],
    private readonly emptyText = "No data yet",
    private readonly pick?: { label(row: T): string; onPick(row: T): void },
  ) {
    this.body = h("tbody");
    const head = h(
      "thead",
      {},
      h(
        "tr",
        {},
        ...columns.map((column) => h("th", { scope: "col", class: column.numeric ? "num" : undefined }, column.label)),
      ),
    );
    const table = h("table", {}, h("caption", {}, caption), head, this.body);
    // A focusable scroll region, so keyboard users can scroll a wide table on a phone.
    this.element = h("div", { class: "table-scroll", tabindex: "0", role: "region", "aria-label": caption }, table);
    this.update([]);
    this.lastKey = "[]";
  }

  /** A single line in place of the rows: an error, or "not available". */
  showMessage(text: string): void {
    this.lastKey = "";
    this.body.replaceChildren(h("tr", {}, h("td", { colspan: String(this.columns.length), class: "empty" }, text)));
  }

  /** The header and the rows as shown (formatted text), for a CSV of exactly what the table says. */
  shown(): { header: string[]; rows: CsvCell[][] } {
    const header = this.columns.map((column) => column.label);
    const rows = [...this.body.rows]
      .filter((row) => row.querySelector("td.empty") === null)
      .map((row) => [...row.cells].map((cell) => cell.textContent ?? ""));
    return { header, rows };
  }

  update(rows: readonly T[]): void {
    const key = JSON.stringify(rows);
    if (key === this.lastKey) return;
    this.lastKey = key;
    if (rows.length === 0) {
      this.body.replaceChildren(
        h("tr", {}, h("td", { colspan: String(this.columns.length), class: "empty" }, this.emptyText)),
      );
      return;
    }
    const pick = this.pick;
    this.body.replaceChildren(
      ...rows.map((row) =>
        h(
          "tr",
          {},
          ...this.columns.map((column, index) => {
            const classes = [column.numeric ? "num" : undefined, column.cellClass?.(row)].filter(Boolean).join(" ");
            const content = column.cell(row);
            if (index > 0 || pick === undefined) return h("td", { class: classes || undefined }, content);
            const button = h("button", { type: "button", class: "row-pick", title: pick.label(row) }, content);
            button.addEventListener("click", () => pick.onPick(row));
            return h("td", { class: classes || undefined }, button);
          }),
        ),
      ),
    );
  }
}
