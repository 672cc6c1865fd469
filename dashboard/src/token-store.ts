/**
 * Where the dashboard keeps its read token and site: `sessionStorage` (gone when the tab
 * closes, never sent anywhere but this origin's API). On localhost the local-dev admin token
 * is pre-filled, so `npm run dev` needs no typing; elsewhere the page asks.
 */
export const LOCAL_DEV_TOKEN = "dev-admin-token";
export const DEFAULT_SITE = "demo";
const TOKEN_KEY = "edgepulse.token";
const SITE_KEY = "edgepulse.site";

export function isLocalHost(hostname: string): boolean {
  return (
    hostname === "localhost" || hostname === "127.0.0.1" || hostname === "[::1]" || hostname.endsWith(".localhost")
  );
}

export interface StoredSettings {
  token: string | null;
  site: string;
}

export function loadSettings(storage: Storage, hostname: string, search: string): StoredSettings {
  const fromUrl = new URLSearchParams(search).get("site");
  const site = fromUrl !== null && fromUrl !== "" ? fromUrl : storage.getItem(SITE_KEY) || DEFAULT_SITE;
  const token = storage.getItem(TOKEN_KEY) || (isLocalHost(hostname) ? LOCAL_DEV_TOKEN : null);
  return { token, site };
}

export function saveSettings(storage: Storage, settings: StoredSettings): void {
  if (settings.token === null) storage.removeItem(TOKEN_KEY);
  else storage.setItem(TOKEN_KEY, settings.token);
  storage.setItem(SITE_KEY, settings.site);
}
