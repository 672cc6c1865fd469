/**
 * WAI-ARIA tabs: buttons with role=tab switch panels; arrow keys, Home and End move between
 * tabs; the URL hash (#live, #history, #sql, #alerts) keeps the choice across reloads.
 */
export class Tabs {
  private readonly tabs: HTMLButtonElement[];

  constructor(
    tablist: HTMLElement,
    private readonly onShow: (name: string) => void,
  ) {
    this.tabs = [...tablist.querySelectorAll<HTMLButtonElement>('[role="tab"]')];
    for (const tab of this.tabs) {
      tab.addEventListener("click", () => this.show(tab.dataset.tab ?? "", true));
      tab.addEventListener("keydown", (event) => this.onKey(event, tab));
    }
    window.addEventListener("hashchange", () => this.show(location.hash.slice(1), false));
  }

  current(): string {
    return this.tabs.find((tab) => tab.getAttribute("aria-selected") === "true")?.dataset.tab ?? "live";
  }

  show(name: string, updateHash: boolean): void {
    const target = this.tabs.find((tab) => tab.dataset.tab === name) ?? this.tabs[0];
    if (target === undefined) return;
    for (const tab of this.tabs) {
      const selected = tab === target;
      tab.setAttribute("aria-selected", String(selected));
      tab.tabIndex = selected ? 0 : -1;
      const panel = document.getElementById(tab.getAttribute("aria-controls") ?? "");
      if (panel !== null) panel.hidden = !selected;
    }
    const tabName = target.dataset.tab ?? "live";
    if (updateHash && location.hash !== `#${tabName}`) history.replaceState(null, "", `#${tabName}`);
    this.onShow(tabName);
  }

  private onKey(event: KeyboardEvent, tab: HTMLButtonElement): void {
    // A hidden tab (Sites, for a token that is not the admin's) is skipped.
    const tabs = this.tabs.filter((candidate) => !candidate.hidden);
    const index = tabs.indexOf(tab);
    const last = tabs.length - 1;
    const next =
      event.key === "ArrowRight"
        ? index === last
          ? 0
          : index + 1
        : event.key === "ArrowLeft"
          ? index === 0
            ? last
            : index - 1
          : event.key === "Home"
            ? 0
            : event.key === "End"
              ? last
              : null;
    if (next === null) return;
    event.preventDefault();
    const target = tabs[next];
    if (target === undefined) return;
    target.focus();
    this.show(target.dataset.tab ?? "", true);
  }
}
