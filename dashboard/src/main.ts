/**
 * Dashboard entry: the settings form (site + token), the connection badge, the tabs, and the
 * four panels. The live feed runs whichever tab is shown, so the badge is always true.
 */
import { siteKeySchema } from "../../protocol/events";
import { AlertsPanel } from "./alerts-view";
import { byId, setText } from "./dom";
import { HistoryViewPanel } from "./history-view";
import { type ConnectionStatus, LiveConnection } from "./live-connection";
import { LiveState } from "./live-state";
import { LiveViewPanel } from "./live-view";
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

siteInput.value = settings.site;
tokenInput.value = settings.token ?? "";

const source = {
  site: () => settings.site,
  token: () => settings.token,
};

const liveState = new LiveState();
const livePanel = new LiveViewPanel(byId("live-content", HTMLElement));
const historyPanel = new HistoryViewPanel(byId("history-content", HTMLElement), source);
new SqlConsole(byId("sql-content", HTMLElement), source);
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
      livePanel.render(liveState.apply(message));
      // The timeline keeps entries until cleared: keep it bounded on a dashboard open for days.
      if (performance.getEntriesByName("edgepulse:render").length >= 500) performance.clearMeasures("edgepulse:render");
      performance.measure("edgepulse:render", { start: started });
      if (performance.getEntriesByName("edgepulse:first-render").length === 0) performance.mark("edgepulse:first-render");
    },
  });
  connection.start();
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
  settings.token = tokenInput.value.trim() === "" ? null : tokenInput.value.trim();
  saveSettings(sessionStorage, settings);
  connect();
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
  if (name === "history" && !historyLoaded) {
    historyLoaded = true;
    void historyPanel.load();
  }
});

tabs.show(location.hash.slice(1) || "live", false);
connect();
