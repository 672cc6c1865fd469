/**
 * Calls `onPage` for the current page and again on each SPA navigation that changes the path:
 * `pushState`, `replaceState` and `popstate`. Query and hash changes are not new pages, and a
 * `replaceState` that keeps the path (routers call it right after `pushState`, or to store
 * scroll state) is not counted twice.
 */
export function trackNavigations(onPage: () => void): void {
  let path: string | undefined;
  const check = () => path != (path = location.pathname) && onPage();
  for (const method of ["pushState", "replaceState"] as const) {
    const original = history[method];
    history[method] = (...args: Parameters<History["pushState"]>) => {
      original.apply(history, args);
      check();
    };
  }
  addEventListener("popstate", check);
  check();
}
