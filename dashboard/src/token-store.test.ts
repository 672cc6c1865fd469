import { describe, expect, it } from "vitest";
import { LOCAL_DEV_TOKEN, loadSettings, saveSettings } from "./token-store";

class MemoryStorage implements Storage {
  private readonly values = new Map<string, string>();
  get length() {
    return this.values.size;
  }
  clear() {
    this.values.clear();
  }
  getItem(key: string) {
    return this.values.get(key) ?? null;
  }
  key(index: number) {
    return [...this.values.keys()][index] ?? null;
  }
  removeItem(key: string) {
    this.values.delete(key);
  }
  setItem(key: string, value: string) {
    this.values.set(key, value);
  }
}

describe("dashboard settings", () => {
  it("pre-fills the local-dev token on localhost only", () => {
    expect(loadSettings(new MemoryStorage(), "127.0.0.1", "").token).toBe(LOCAL_DEV_TOKEN);
    expect(loadSettings(new MemoryStorage(), "localhost", "").token).toBe(LOCAL_DEV_TOKEN);
    expect(loadSettings(new MemoryStorage(), "analytics.example.com", "").token).toBeNull();
  });

  it("keeps the entered token and site in session storage; ?site= wins", () => {
    const storage = new MemoryStorage();
    saveSettings(storage, { token: "t-123", site: "shop" });
    expect(loadSettings(storage, "analytics.example.com", "")).toEqual({ token: "t-123", site: "shop" });
    expect(loadSettings(storage, "analytics.example.com", "?site=other").site).toBe("other");
    saveSettings(storage, { token: null, site: "shop" });
    expect(loadSettings(storage, "analytics.example.com", "").token).toBeNull();
  });
});
