/** A migration that cannot be applied as written: a bad file name, a changed applied file, an untranslatable statement. */
export class MigrationError extends Error {
  override name = "MigrationError";
}
