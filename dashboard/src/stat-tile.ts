/** One headline number with its label, e.g. "Online now 12", and optionally its change against a comparison period. */
import { h, setText } from "./dom";
import type { Delta } from "./format-delta";

export class StatTile {
  readonly element: HTMLElement;
  private readonly value: HTMLElement;
  private readonly note: HTMLElement;
  private readonly delta: HTMLElement;

  constructor(label: string, testId: string) {
    this.value = h("dd", { class: "stat-value", "data-testid": testId }, "–");
    this.note = h("dd", { class: "stat-note" });
    this.delta = h("dd", { class: "stat-delta", "data-testid": `${testId}-delta`, hidden: "" });
    this.element = h("div", { class: "stat" }, h("dt", {}, label), this.value, this.delta, this.note);
  }

  /** The change against the comparison period; `null` hides it. */
  setDelta(delta: Delta | null, against = ""): void {
    this.delta.hidden = delta === null;
    if (delta === null) return;
    this.delta.dataset.direction = delta.direction;
    const arrow = delta.direction === "up" ? "▲ " : delta.direction === "down" ? "▼ " : "";
    setText(this.delta, `${arrow}${delta.text}${against ? ` vs ${against}` : ""}`);
  }

  set(value: string, note = ""): void {
    setText(this.value, value);
    setText(this.note, note);
  }
}
