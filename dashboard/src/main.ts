/**
 * Dashboard entry: the settings form (site + token), the site switcher, the connection badge,
 * the tabs, and the panels (Sites only for the admin token). The live feed runs whichever tab
 * is shown, so the badge is always true. The token is checked every ACCESS_CHECK_MS: a
 * revoked token closes the feed and says so, even though an open socket would keep running.
 */
import { siteKeySchema } from "../../protocol/events";
import { AlertsPanel } from "./alerts-view";
import { ApiRequestError } from "./api";
import { byId, setText } from "./dom";
import { describesHistoryView } from "./history-url-state";
import { HistoryViewPanel } from "./history-view";
import { type ConnectionStatus, LiveConnection } from "./live-connection";
import { LiveFilters } from "./live-filtered";
import { LiveState } from "./live-state";
import { LiveViewPanel } from "./live-view";
import { SiteSwitcher } from "./site-switcher";
import { SitesPage } from "./sites-page";
import { SqlConsole } from "./sql-console";
import { Tabs } from "./tabs";
import { type StoredSettings, loadSettings, saveSettings } from "./token-store";

const settings: StoredSettings = loadSettings(sessionStorage, location.hostname, location.search);

const siteInput = byId("site", HTMLInputElement);
const tokenInput = byId("token", HTMLInputElement);
const settingsForm = byId("settings", HTMLFormElement);
const settingsError = byId("settings-error", HTMLElement);
const badge = byId("connection", HTMLElement);
const badgeText = byId("connection-text", HTMLElement);
const reconnectButton = byId("reconnect", HTMLButtonElement);
const sitesTab = byId("tab-sites", HTMLButtonElement);
/** How often the token is checked; with the collector's 5 s cache a revocation shows within 10 s. */
const ACCESS_CHECK_MS = 4_000;

siteInput.value = settings.site;
tokenInput.value = settings.token ?? "";

const source = {
  site: () => settings.site,
  token: () => settings.token,
};

const liveState = new LiveState();
// With filters in the URL the Live tab shows filtered figures from ClickHouse; without, the feed's.
const liveFilters = new LiveFilters(source, (view) => {
  if (view !== null) livePanel.render(view);
  else {
    const feed = liveState.view();
    if (feed === null) livePanel.waiting();
    else livePanel.render(feed);
  }
});
const livePanel = new LiveViewPanel(
  byId("live-content", HTMLElement),
  [liveFilters.chips.element, liveFilters.note],
  (dimension, value) => liveFilters.add(dimension, value),
);
const historyPanel = new HistoryViewPanel(byId("history-content", HTMLElement), source);
new SqlConsole(byId("sql-content", HTMLElement), source);
let sitesLoaded = false;
const sitesPage = new SitesPage(byId("sites-content", HTMLElement), source, () => void checkAccess());
const switcher = new SiteSwitcher(byId("site-switcher", HTMLSelectElement), (site) => useSite(site));
const alertsPanel = new AlertsPanel(byId("alerts-content", HTMLElement), source);

let connection: LiveConnection | null = null;
let historyLoaded = false;

function showStatus(status: ConnectionStatus): void {
  badge.dataset.state = status.state;
  setText(badgeText, status.detail);
  reconnectButton.hidden = status.state !== "reconnecting";
}

function connect(): void {
  connection?.stop();
  connection = null;
  liveState.reset();
  if (settings.token === null) {
    showStatus({ state: "unauthorized", detail: "enter a read token to connect" });
    tokenInput.focus();
    return;
  }
  connection = new LiveConnection({
    site: settings.site,
    token: settings.token,
    origin: location.origin,
    onStatus: showStatus,
    onMessage: (message) => {
      // Marks for the browser test's performance report: time to the first rendered snapshot,
      // and the script time of every render.
      const started = performance.now();
      const view = liveState.apply(message);
      // Filtered figures are on screen: the feed's site-wide numbers wait for the chips to go.
      if (liveFilters.active()) return;
      livePanel.render(view);
      // The timeline keeps entries until cleared: keep it bounded on a dashboard open for days.
      if (performance.getEntriesByName("edgepulse:render").length >= 500) performance.clearMeasures("edgepulse:render");
      performance.measure("edgepulse:render", { start: started });
      if (performance.getEntriesByName("edgepulse:first-render").length === 0)
        performance.mark("edgepulse:first-render");
    },
  });
  connection.start();
}

/** Asks which sites the token reads; a refusal stops the feed. Shows the Sites tab to the admin. */
async function checkAccess(): Promise<void> {
  const token = settings.token;
  if (token === null) return;
  try {
    const answer = await switcher.refresh(token, settings.site);
    // A late answer for a token replaced meanwhile (the pre-filled admin token, then a
    // viewer's) must not show the Sites tab to the new one.
    if (token !== settings.token) return;
    sitesTab.hidden = !answer.admin;
  } catch (error) {
    if (
      error instanceof ApiRequestError &&
      (error.status === 401 || error.status === 403) &&
      token === settings.token
    ) {
      connection?.stop();
      connection = null;
      sitesTab.hidden = true;
      showStatus({ state: "unauthorized", detail: `the token was refused: ${error.message}` });
    }
  }
}

function useSite(site: string): void {
  settings.site = site;
  siteInput.value = site;
  saveSettings(sessionStorage, settings);
  connect();
  liveFilters.restart();
  historyLoaded = false;
  if (tabs.current() === "history") {
    historyLoaded = true;
    void historyPanel.load();
  }
}

settingsForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const site = siteKeySchema.safeParse(siteInput.value.trim());
  if (!site.success) {
    setText(settingsError, "A site key is lower-case letters, digits, _ or -.");
    siteInput.setAttribute("aria-invalid", "true");
    siteInput.focus();
    return;
  }
  siteInput.removeAttribute("aria-invalid");
  setText(settingsError, "");
  settings.site = site.data;
  const token = tokenInput.value.trim() === "" ? null : tokenInput.value.trim();
  // Another token opens nothing of the last one's until its own check answers: no Sites tab
  // for a viewer in the meantime, even if the admin token's answer showed it a moment ago.
  if (token !== settings.token) sitesTab.hidden = true;
  settings.token = token;
  saveSettings(sessionStorage, settings);
  connect();
  liveFilters.restart();
  void checkAccess();
  historyLoaded = false;
  if (tabs.current() === "history") {
    historyLoaded = true;
    void historyPanel.load();
  }
  if (tabs.current() === "alerts") void alertsPanel.load();
});

reconnectButton.addEventListener("click", () => connection?.reconnectNow());

const tabs = new Tabs(byId("tabs", HTMLElement), (name) => {
  // The Alerts tab polls only while shown.
  if (name === "alerts") alertsPanel.start();
  else alertsPanel.stop();
  // Filtered live figures are polled only while the Live tab is shown.
  liveFilters.setShown(name === "live");
  // The Live tab's chips may have changed the filters in the URL.
  if (name === "history" && historyPanel.syncWithUrl() && historyLoaded) void historyPanel.load();
  if (name === "history" && !historyLoaded) {
    historyLoaded = true;
    void historyPanel.load();
  }
  if (name === "sites" && !sitesLoaded) {
    sitesLoaded = true;
    void sitesPage.load();
  }
});

// A shared history link (range, filters in the query string) opens on History even without its hash.
tabs.show(location.hash.slice(1) || (describesHistoryView(location.search) ? "history" : "live"), false);
connect();
void checkAccess();
setInterval(() => void checkAccess(), ACCESS_CHECK_MS);
