/** What the pure modules may say; main.ts backs it with @actions/core, tests with arrays. */
export interface Logger {
  debug(message: string): void
  info(message: string): void
  warning(message: string): void
}

/**
 * Presigned URLs are credentials. Anything that might echo one (an error from the network
 * layer, an S3 error body) goes through this before it reaches a log line or a message.
 */
export function redact(text: string): string {
  return text
    .replace(/https?:\/\/[^\s"'<>]*[?&]X-Amz-[^\s"'<>]*/gi, m => `${m.split('?')[0]}?<redacted>`)
    .replace(/(X-Amz-(Signature|Credential|Security-Token)=)[^&\s"'<>]+/gi, '$1<redacted>')
}

/** A caught error as one safe line: name and message, presigned URLs redacted. */
export function describeError(error: unknown): string {
  return redact(error instanceof Error ? `${error.name}: ${error.message}` : String(error))
}
