/**
 * Performance entry types that TypeScript's DOM library does not declare yet (Chromium has
 * shipped them for years); used only as casts, declared here so nothing global is augmented.
 */
export interface LayoutShift extends PerformanceEntry {
  value: number;
  hadRecentInput: boolean;
}

export interface EventTiming extends PerformanceEntry {
  interactionId?: number;
}

export interface NavigationTiming extends PerformanceNavigationTiming {
  /** When a prerendered page was shown; vitals count from there. */
  activationStart?: number;
}

export type PerformanceWithInteractions = Performance & { interactionCount?: number };
