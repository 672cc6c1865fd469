/**
 * The active filters (History's, and the Live tab's: the same URL parameter) as chips: each says what it keeps ("Channel is Email"), has a
 * button that flips it to "is not" and back, and one that removes it. The chips only report
 * what the user asked; the view owns the filter list and the URL.
 */
import { h } from "./dom";
import { type HistoryFilter, describeFilter } from "./history-filter";

export interface FilterChipActions {
  toggle(index: number): void;
  remove(index: number): void;
  clear(): void;
}

export class FilterChips {
  readonly element: HTMLElement;

  constructor(
    private readonly actions: FilterChipActions,
    testId = "history-filters",
  ) {
    this.element = h("ul", { class: "filter-chips", "aria-label": "Filters", "data-testid": testId });
    this.element.hidden = true;
  }

  show(filters: readonly HistoryFilter[]): void {
    this.element.hidden = filters.length === 0;
    const chips = filters.map((filter, index) => {
      const text = describeFilter(filter);
      const toggle = h(
        "button",
        {
          type: "button",
          class: "chip-op",
          "aria-label": `Change to ${filter.op === "is" ? "is not" : "is"}: ${text}`,
        },
        filter.op === "is" ? "is" : "is not",
      );
      toggle.addEventListener("click", () => this.actions.toggle(index));
      const remove = h("button", { type: "button", class: "chip-remove", "aria-label": `Remove filter: ${text}` }, "×");
      remove.addEventListener("click", () => this.actions.remove(index));
      return h(
        "li",
        { class: "chip", "data-op": filter.op, "data-filter": `${filter.dimension}:${filter.op}:${filter.value}` },
        h("span", { class: "chip-text" }, text),
        toggle,
        remove,
      );
    });
    const clear = h("button", { type: "button", class: "chip-clear" }, "Clear filters");
    clear.addEventListener("click", () => this.actions.clear());
    this.element.replaceChildren(...chips, ...(filters.length > 1 ? [h("li", {}, clear)] : []));
  }
}
