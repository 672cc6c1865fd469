/**
 * `@edgepulse/sdk/outbound`: clicks on links that leave the site become `outbound` custom
 * events (`{ url }`), and clicks on files (a known extension, or a `download` attribute)
 * `download` events (`{ file }`): `outbound(init({ site: "demo" }))`. Both go through the
 * tracker's `track`, so they are batched, retried and shown in Goals like any custom event.
 *
 * One capturing listener on the document sees every link, including links added later and
 * links whose own handlers stop propagation. Middle clicks (`auxclick`) open a tab and count
 * too. A link that leaves the page is still counted: the tracker flushes on `pagehide`.
 */
import type { Tracker } from "../types";

/** Extensions that make a link a file download (as Plausible's file-downloads add-on counts them). */
const FILE =
  /\.(pdf|xlsx?|docx?|pptx?|odt|ods|txt|rtf|csv|json|xml|zip|rar|7z|gz|tgz|dmg|pkg|exe|msi|apk|iso|mp3|wav|mp4|mov|avi|epub)$/i;

export function outbound(tracker: Pick<Tracker, "track">): void {
  const onClick = (event: MouseEvent) => {
    // auxclick also fires for the right button, which opens a menu, not the link.
    if (event.button > 1) return;
    const link = (event.target as Element).closest?.("a[href]") as HTMLAnchorElement | null;
    if (!link || !/^https?:$/.test(link.protocol)) return;
    if (link.hasAttribute("download") || FILE.test(link.pathname)) tracker.track("download", { file: link.href });
    else if (link.host != location.host) tracker.track("outbound", { url: link.href });
  };
  addEventListener("click", onClick, true);
  addEventListener("auxclick", onClick, true);
}
