// The one error model. Every failure that reaches a user is an AppError with one of these codes;
// the API maps them to transport codes (tRPC/HTTP) in one place.
export const errorCodes = [
  'BAD_REQUEST', // input failed validation
  'UNAUTHORIZED', // not signed in
  'FORBIDDEN', // signed in, in this tenant, but the role does not allow it
  'NOT_FOUND', // missing, or belongs to another tenant (never say which)
  'CONFLICT', // a uniqueness or state rule would be broken
  'TOO_MANY_REQUESTS', // rate limited
  'SERVICE_UNAVAILABLE', // an agent it needs is not connected or did not take the command: try again
  'GATEWAY_TIMEOUT', // an agent took the command but did not answer in time: try again
  'BAD_GATEWAY', // an agent answered something that is not a valid result
] as const;
export type ErrorCode = (typeof errorCodes)[number];

export class AppError extends Error {
  readonly code: ErrorCode;
  /** Per-field messages for forms (field path → message). */
  readonly fields?: Record<string, string>;

  constructor(code: ErrorCode, message: string, fields?: Record<string, string>) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.fields = fields;
  }
}

export const notFound = (what: string) => new AppError('NOT_FOUND', `${what} not found`);
export const forbidden = (why: string) => new AppError('FORBIDDEN', why);
