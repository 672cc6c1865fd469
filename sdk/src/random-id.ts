/**
 * A batch id: 128 random bits written as four decimal words (at most 43 characters of the
 * protocol's id alphabet). A resent batch keeps its id, so the collector counts it once; a new
 * batch gets a new one. `getRandomValues` works outside secure contexts, unlike `randomUUID`.
 */
export const randomId = (): string => crypto.getRandomValues(new Uint32Array(4)).join("-");
