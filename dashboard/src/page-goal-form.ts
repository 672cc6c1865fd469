/**
 * The Goals panel's page goals: a path pattern (`/checkout/*`) to count as a goal, added with a
 * small form and listed with a remove button each. Like the filter chips, it only reports what
 * the user asked; the view keeps the list in the URL and asks the goals route for them.
 */
import { h } from "./dom";

export interface PageGoalActions {
  add(pattern: string): void;
  remove(index: number): void;
}

export class PageGoalForm {
  readonly element: HTMLElement;
  private readonly list: HTMLElement;

  constructor(private readonly actions: PageGoalActions) {
    const input = h("input", {
      id: "page-goal",
      type: "text",
      placeholder: "/checkout/*",
      spellcheck: "false",
      autocomplete: "off",
    });
    const form = h(
      "form",
      { class: "page-goal-form", "aria-label": "Page goals" },
      h("label", { for: "page-goal" }, "Page goal"),
      input,
      h("button", { type: "submit" }, "Add page goal"),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const pattern = input.value.trim();
      if (pattern === "") return;
      // A path pattern starts at the root, as paths are stored.
      actions.add(pattern.startsWith("/") ? pattern : `/${pattern}`);
      input.value = "";
    });
    this.list = h("ul", { class: "filter-chips", "aria-label": "Page goals" });
    this.element = h("div", {}, this.list, form);
  }

  show(patterns: readonly string[]): void {
    this.list.hidden = patterns.length === 0;
    this.list.replaceChildren(
      ...patterns.map((pattern, index) => {
        const remove = h("button", { type: "button", "aria-label": `Remove page goal ${pattern}` }, "×");
        remove.addEventListener("click", () => this.actions.remove(index));
        return h("li", { class: "chip" }, h("span", { class: "chip-text" }, `Visited ${pattern}`), remove);
      }),
    );
  }
}
