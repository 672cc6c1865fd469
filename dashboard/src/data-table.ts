/**
 * An accessible table (caption, column headers, scrollable on narrow screens) whose body is
 * rebuilt only when its rows changed, so a live update that changes nothing costs nothing.
 */
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
    this.body.replaceChildren(
      ...rows.map((row) =>
        h(
          "tr",
          {},
          ...this.columns.map((column) => {
            const classes = [column.numeric ? "num" : undefined, column.cellClass?.(row)].filter(Boolean).join(" ");
            return h("td", { class: classes || undefined }, column.cell(row));
          }),
        ),
      ),
    );
  }
}
