/** Saves text as a file through a temporary object URL: the page's CSV downloads. */
import { h } from "./dom";

export function downloadFile(name: string, text: string, type = "text/csv;charset=utf-8"): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = h("a", { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  // Revoked later, not now: the browser may still be reading it.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
