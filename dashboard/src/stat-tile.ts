/** One headline number with its label, e.g. "Online now 12". */
import { h, setText } from "./dom";

export class StatTile {
  readonly element: HTMLElement;
  private readonly value: HTMLElement;
  private readonly note: HTMLElement;

  constructor(label: string, testId: string) {
    this.value = h("dd", { class: "stat-value", "data-testid": testId }, "–");
    this.note = h("dd", { class: "stat-note" });
    this.element = h("div", { class: "stat" }, h("dt", {}, label), this.value, this.note);
  }

  set(value: string, note = ""): void {
    setText(this.value, value);
    setText(this.note, note);
  }
}
