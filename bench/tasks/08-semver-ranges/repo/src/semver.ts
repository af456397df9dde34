// Semantic version precedence and range matching: see TASK.md.

/** -1, 0 or 1 as a has lower, the same or higher precedence than b. Throws TypeError for a non-version. */
export function compareVersions(a: string, b: string): -1 | 0 | 1 {
  throw new Error("not implemented");
}

/** Whether version is in range. Throws TypeError for a non-version or a malformed range. */
export function satisfies(version: string, range: string): boolean {
  throw new Error("not implemented");
}
