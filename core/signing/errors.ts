/**
 * Failures of signing and verification. `kind` decides the CLI exit code: `usage` problems
 * (bad arguments, unreadable keys, a model that cannot be signed) exit 2; `verify` failures exit 1.
 */
export type SigningErrorKind = 'usage' | 'verify' | 'cancelled' | 'limit' | 'io';

export class SigningError extends Error {
  constructor(readonly kind: SigningErrorKind, message: string, readonly code?: string) { super(message); }
}

export function usageError(message: string, code?: string): SigningError { return new SigningError('usage', message, code); }
