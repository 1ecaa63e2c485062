// Typed errors: each says what happened, to what, and what to do next.

export class FieldgateError extends Error {
  override name = 'FieldgateError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The manifest (or a value interpolated into it) is not valid; `issues` holds one line per problem. */
export class ManifestError extends FieldgateError {
  override name = 'ManifestError';
  constructor(readonly file: string, readonly issues: string[], options?: { cause?: unknown }) {
    super(`${file}: ${issues.length} problem(s)\n  ${issues.join('\n  ')}`, options);
  }
}

/** A file the user named cannot be read at all (missing, permissions). Exit code 2 in the CLI. */
export class UnreadableFileError extends FieldgateError {
  override name = 'UnreadableFileError';
}

/** The store's disk failed; the store keeps serving from memory. */
export class StorageError extends FieldgateError {
  override name = 'StorageError';
}

/** The circuit is open: calls are refused without touching the device until the cool-down ends. */
export class CircuitOpenError extends FieldgateError {
  override name = 'CircuitOpenError';
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
