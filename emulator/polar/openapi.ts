/**
 * Polar's OpenAPI document, compiled with ajv: every request the emulator accepts and every
 * response it sends is checked against it, so the emulator cannot drift from the real API.
 */
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js'
import addFormatsModule from 'ajv-formats'

/** A FastAPI/pydantic validation error item, as Polar sends in 422 bodies. */
export interface ValidationIssue {
  type: string
  loc: (string | number)[]
  msg: string
  input: unknown
  ctx?: Record<string, unknown>
}

/** The project's reference copy: `shared/` beside the repo (as CI lays it out). */
export const SHARED_OPENAPI_PATH = fileURLToPath(
  new URL('../../../shared/polar-openapi-files.json', import.meta.url)
)
/** A copy kept in the repo, for clones without `shared/` (GitHub's CI); a test keeps it equal. */
export const VENDORED_OPENAPI_PATH = fileURLToPath(
  new URL('./polar-openapi-files.json', import.meta.url)
)
export const OPENAPI_PATH: string =
  process.env.POLAR_OPENAPI_PATH ??
  (existsSync(SHARED_OPENAPI_PATH) ? SHARED_OPENAPI_PATH : VENDORED_OPENAPI_PATH)

interface OpenApiParameter {
  name: string
  in: 'query' | 'path' | 'header'
  required?: boolean
  schema: unknown
}
interface OpenApiOperation {
  parameters?: OpenApiParameter[]
  requestBody?: unknown
  responses: Record<string, unknown>
  security?: Record<string, string[]>[]
}
interface OpenApiDocument {
  paths: Record<string, Record<string, OpenApiOperation>>
  components: { schemas: Record<string, unknown> }
}

const DOC_ID = 'polar-openapi.json'
/** Pydantic's UUID4 accepts any hyphenated hex UUID whose version nibble is 4. */
const UUID4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export function isUuid4(value: string): boolean {
  return UUID4.test(value)
}

function pointerEscape(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1')
}

// ajv-formats is CJS with a default export; under NodeNext the callable is `.default`.
type AddFormats = (ajv: Ajv2020) => Ajv2020
const addFormats: AddFormats =
  (addFormatsModule as unknown as { default?: AddFormats }).default ??
  (addFormatsModule as unknown as AddFormats)

export class OpenApi {
  readonly doc: OpenApiDocument
  private readonly ajv: Ajv2020
  private readonly cache = new Map<string, ValidateFunction>()

  constructor(path: string = OPENAPI_PATH) {
    this.doc = JSON.parse(readFileSync(path, 'utf8')) as OpenApiDocument
    // strict: false because the document carries OpenAPI keywords (discriminator, x-*) that are
    // annotations for JSON Schema; allErrors so a 422 lists every problem like pydantic does.
    this.ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false })
    addFormats(this.ajv)
    this.ajv.addFormat('uuid4', UUID4)
    this.ajv.addSchema(this.doc as object, DOC_ID)
  }

  operation(path: string, method: string): OpenApiOperation {
    const op = this.doc.paths[path]?.[method.toLowerCase()]
    if (!op) throw new Error(`emulator bug: no operation ${method} ${path} in the OpenAPI document`)
    return op
  }

  /** Scopes of which any one grants the operation (Polar: any listed scope is enough). */
  scopes(path: string, method: string): string[] {
    const security = this.operation(path, method).security ?? []
    const scopes = new Set<string>()
    for (const entry of security)
      for (const list of Object.values(entry)) list.forEach(s => scopes.add(s))
    return [...scopes]
  }

  parameters(path: string, method: string): OpenApiParameter[] {
    return this.operation(path, method).parameters ?? []
  }

  private validator(pointer: string): ValidateFunction {
    let fn = this.cache.get(pointer)
    if (!fn) {
      fn = this.ajv.compile({ $ref: `${DOC_ID}#${pointer}` })
      this.cache.set(pointer, fn)
    }
    return fn
  }

  private opPointer(path: string, method: string): string {
    return `/paths/${pointerEscape(path)}/${method.toLowerCase()}`
  }

  /** Validate a value against a component schema, e.g. `DownloadableFileCreate`. */
  validateComponent(
    name: string,
    value: unknown,
    locPrefix: (string | number)[]
  ): ValidationIssue[] {
    return this.run(`/components/schemas/${pointerEscape(name)}`, value, locPrefix)
  }

  validateRequestBody(path: string, method: string, value: unknown): ValidationIssue[] {
    const pointer = `${this.opPointer(path, method)}/requestBody/content/application~1json/schema`
    return this.run(pointer, value, ['body'])
  }

  validateParameter(
    path: string,
    method: string,
    index: number,
    value: unknown
  ): ValidationIssue[] {
    const param = this.parameters(path, method)[index]
    return this.run(`${this.opPointer(path, method)}/parameters/${index}/schema`, value, [
      param.in,
      param.name
    ])
  }

  /** Throws when a response the emulator is about to send does not match the document. */
  assertResponse(path: string, method: string, status: number, body: unknown): void {
    const op = this.operation(path, method)
    const response = op.responses[String(status)] as
      { content?: Record<string, unknown> } | undefined
    if (!response) {
      throw new Error(
        `EMULATOR BUG: ${method} ${path} answered ${status}, which the OpenAPI document does not list`
      )
    }
    if (!response.content) {
      if (body !== undefined)
        throw new Error(`EMULATOR BUG: ${method} ${path} ${status} must have no body`)
      return
    }
    const pointer = `${this.opPointer(path, method)}/responses/${status}/content/application~1json/schema`
    const fn = this.validator(pointer)
    if (!fn(body)) {
      throw new Error(
        `EMULATOR BUG: ${method} ${path} ${status} response does not match the OpenAPI document: ` +
          this.ajv.errorsText(fn.errors, { dataVar: 'response' })
      )
    }
  }

  private run(pointer: string, value: unknown, locPrefix: (string | number)[]): ValidationIssue[] {
    const fn = this.validator(pointer)
    if (fn(value)) return []
    return toIssues(fn.errors ?? [], value, locPrefix)
  }
}

// ---- ajv errors → pydantic-style issues -------------------------------------------------------

function pathSegments(instancePath: string): (string | number)[] {
  if (instancePath === '') return []
  return instancePath
    .slice(1)
    .split('/')
    .map(s => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map(s => (/^\d+$/.test(s) ? Number(s) : s))
}

function valueAt(root: unknown, segments: (string | number)[]): unknown {
  let cur: unknown = root
  for (const s of segments) {
    if (cur === null || typeof cur !== 'object') return undefined
    cur = (cur as Record<string | number, unknown>)[s]
  }
  return cur
}

function quoteList(values: unknown[]): string {
  const quoted = values.map(v => `'${String(v)}'`)
  return quoted.length <= 1
    ? quoted.join('')
    : `${quoted.slice(0, -1).join(', ')} or ${quoted.at(-1)}`
}

function issueFor(
  e: ErrorObject,
  root: unknown,
  prefix: (string | number)[]
): ValidationIssue | null {
  const segs = pathSegments(e.instancePath)
  const input = valueAt(root, segs)
  const loc = [...prefix, ...segs]
  const p = e.params as Record<string, unknown>
  switch (e.keyword) {
    case 'required':
      return {
        type: 'missing',
        loc: [...loc, String(p.missingProperty)],
        msg: 'Field required',
        input
      }
    case 'type': {
      const t = String(p.type)
      if (t === 'null') return null // the "or null" branch of an Optional: pydantic reports the other
      const byType: Record<string, [string, string]> = {
        integer: [
          typeof input === 'string' ? 'int_parsing' : 'int_type',
          typeof input === 'string'
            ? 'Input should be a valid integer, unable to parse string as an integer'
            : 'Input should be a valid integer'
        ],
        number: ['float_type', 'Input should be a valid number'],
        string: ['string_type', 'Input should be a valid string'],
        boolean: ['bool_type', 'Input should be a valid boolean'],
        array: ['list_type', 'Input should be a valid list'],
        object: [
          'model_attributes_type',
          'Input should be a valid dictionary or object to extract fields from'
        ]
      }
      const [type, msg] = byType[t] ?? ['type_error', `Input should be of type ${t}`]
      return { type, loc, msg, input }
    }
    case 'maxItems':
      return {
        type: 'too_long',
        loc,
        msg: `List should have at most ${String(p.limit)} items after validation, not ${(input as unknown[]).length}`,
        input,
        ctx: { field_type: 'List', max_length: p.limit, actual_length: (input as unknown[]).length }
      }
    case 'minItems': {
      const n = Number(p.limit)
      return {
        type: 'too_short',
        loc,
        msg: `List should have at least ${n} item${n === 1 ? '' : 's'} after validation, not ${(input as unknown[]).length}`,
        input,
        ctx: { field_type: 'List', min_length: n, actual_length: (input as unknown[]).length }
      }
    }
    case 'maxLength':
      return {
        type: 'string_too_long',
        loc,
        msg: `String should have at most ${String(p.limit)} characters`,
        input,
        ctx: { max_length: p.limit }
      }
    case 'minLength':
      return {
        type: 'string_too_short',
        loc,
        msg: `String should have at least ${String(p.limit)} characters`,
        input,
        ctx: { min_length: p.limit }
      }
    case 'const':
      return {
        type: 'literal_error',
        loc,
        msg: `Input should be ${quoteList([p.allowedValue])}`,
        input
      }
    case 'enum':
      return {
        type: 'enum',
        loc,
        msg: `Input should be ${quoteList(p.allowedValues as unknown[])}`,
        input
      }
    case 'format':
      if (p.format === 'uuid4' || p.format === 'uuid')
        return { type: 'uuid_parsing', loc, msg: 'Input should be a valid UUID', input }
      return { type: 'value_error', loc, msg: `Input should be a valid ${String(p.format)}`, input }
    case 'pattern':
      return {
        type: 'string_pattern_mismatch',
        loc,
        msg: `String should match pattern '${String(p.pattern)}'`,
        input
      }
    case 'maximum':
      return {
        type: 'less_than_equal',
        loc,
        msg: `Input should be less than or equal to ${String(p.limit)}`,
        input
      }
    case 'exclusiveMinimum':
      return {
        type: 'greater_than',
        loc,
        msg: `Input should be greater than ${String(p.limit)}`,
        input,
        ctx: { gt: p.limit }
      }
    case 'maxProperties':
      return {
        type: 'too_long',
        loc,
        msg: `Dictionary should have at most ${String(p.limit)} items`,
        input
      }
    case 'anyOf':
    case 'oneOf':
    case 'allOf':
    case 'propertyNames':
      return null // summaries of branch errors, which are reported themselves
    default:
      return { type: 'value_error', loc, msg: e.message ?? 'Invalid value', input }
  }
}

function toIssues(
  errors: ErrorObject[],
  root: unknown,
  prefix: (string | number)[]
): ValidationIssue[] {
  const out: ValidationIssue[] = []
  const seen = new Set<string>()
  for (const e of errors) {
    const issue = issueFor(e, root, prefix)
    if (!issue) continue
    const key = JSON.stringify(issue.loc)
    if (seen.has(key)) continue // one issue per location, as pydantic reports
    seen.add(key)
    out.push(issue)
  }
  // anyOf(single | list): when a deeper issue explains the failure, drop the other branch's
  // type mismatch at the parent location (pydantic reports only the branch that applied).
  const deeper = (a: ValidationIssue, b: ValidationIssue): boolean =>
    b.loc.length > a.loc.length && a.loc.every((s, i) => b.loc[i] === s)
  const kept = out.filter(a => !(/_type$|_parsing$/.test(a.type) && out.some(b => deeper(a, b))))
  out.length = 0
  out.push(...kept)
  if (out.length === 0 && errors.length > 0) {
    out.push({ type: 'value_error', loc: prefix, msg: 'Invalid input', input: root })
  }
  return out
}
