/**
 * Calls `onPage` for the current page, again on each SPA navigation that changes the path
 * (`pushState`, `replaceState` and `popstate`), and on a restore from the back/forward cache. Query and hash changes are not new pages, and a
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
  // A page restored from the back/forward cache is shown again without loading: a new view,
  // as it would be in a browser without that cache.
  addEventListener("pageshow", (event) => event.persisted && onPage());
  check();
}
