/** What the pure modules may say; outputs.ts backs it with @actions/core, tests with arrays. */
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

/** Longest detail from a server's error body that a message carries. */
export const MAX_DETAIL = 200

/**
 * Secrets out of text bound for a log line, a message or the summary: presigned URLs and
 * signatures, bearer and token credentials, tokens by their shape, and every known secret in
 * its plain, URL-encoded and base64 forms. The runner masks registered secrets, but not encoded
 * or split forms, nor secrets it was never told about.
 */
export function scrubSecrets(text: string, secrets: string[] = []): string {
  let out = redact(text)
  for (const secret of secrets.filter(s => s.length >= 6)) {
    for (const form of [
      secret,
      encodeURIComponent(secret),
      Buffer.from(secret).toString('base64')
    ]) {
      out = out.split(form).join('***')
    }
  }
  return out
    .replace(/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi, '$1 ***')
    .replace(/\btoken\s+(?=[^\s]*\d)[A-Za-z0-9._~+/=-]{16,}/gi, 'token ***')
    .replace(/\b(polar_[a-z]{2,4}_|gh[opsur]_|github_pat_)[A-Za-z0-9_-]{6,}/g, '$1***')
    .replace(/\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/g, '***')
}

/** Text from outside (an error body, a detail) as one short, secret-free line. */
export function scrub(text: string, secrets: string[] = [], max = MAX_DETAIL): string {
  const out = [...scrubSecrets(text, secrets)]
    .map(c => (c < ' ' || c === '\u007f' ? ' ' : c)) // one line: no control characters
    .join('')
    .replace(/ {2,}/g, ' ')
    .trim()
  return out.length > max ? `${out.slice(0, max - 1)}…` : out
}
