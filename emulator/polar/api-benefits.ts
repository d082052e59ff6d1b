/** /v1/benefits/ routes for downloadables benefits: get, list, active files, patch. */
import { NOT_FOUND, validationError, type ApiContext, type Handler } from './api-context.js'
import type { ValidationIssue } from './openapi.js'
import { benefitFile, benefitRead, paginate } from './serialize.js'
import type { StoredBenefit } from './types.js'

function visibleBenefit(ctx: ApiContext): StoredBenefit | undefined {
  const b = ctx.pathId === undefined ? undefined : ctx.deps.state.benefit(ctx.pathId)
  return b && ctx.organizations.includes(b.organizationId) ? b : undefined
}

function asList(v: unknown): string[] | undefined {
  if (v === undefined || v === null) return undefined
  return Array.isArray(v) ? (v as string[]) : [String(v)]
}

export const getBenefit: Handler = ctx => {
  const b = visibleBenefit(ctx)
  return b ? { status: 200, json: benefitRead(b) } : NOT_FOUND
}

export const listBenefits: Handler = ctx => {
  const orgs = asList(ctx.query.organization_id)
  const types = asList(ctx.query.type)
  const ids = asList(ctx.query.id)
  const excluded = asList(ctx.query.exclude_id) ?? []
  const text = typeof ctx.query.query === 'string' ? ctx.query.query.toLowerCase() : undefined
  const sorting = asList(ctx.query.sorting) ?? ['-created_at']
  const items = ctx.deps.state
    .allBenefits()
    .filter(
      b =>
        ctx.organizations.includes(b.organizationId) &&
        (!orgs || orgs.includes(b.organizationId)) &&
        (!types || types.includes('downloadables')) && // the emulator only has downloadables
        (!ids || ids.includes(b.id)) &&
        !excluded.includes(b.id) &&
        (!text || b.description.toLowerCase().includes(text))
    )
    .sort((a, b) => {
      for (const s of sorting) {
        const desc = s.startsWith('-')
        const field = desc ? s.slice(1) : s
        const av = field === 'description' ? a.description : a.createdAt
        const bv = field === 'description' ? b.description : b.createdAt
        if (av !== bv) return (av < bv ? -1 : 1) * (desc ? -1 : 1)
      }
      return 0
    })
    .map(benefitRead)
  return {
    status: 200,
    json: paginate(items, Number(ctx.query.page ?? 1), Number(ctx.query.limit ?? 10))
  }
}

/** Active files = `files` minus archived ones, in `files` order; deleted files are omitted. */
export const listBenefitFiles: Handler = ctx => {
  const b = visibleBenefit(ctx)
  if (!b) return NOT_FOUND
  const { state } = ctx.deps
  const items = b.files
    .filter(id => !b.archived[id])
    .map(id => state.file(id))
    .filter(f => f !== undefined && f.deletedAt === null && f.isUploaded)
    .map(f => benefitFile(f!))
  return {
    status: 200,
    json: paginate(items, Number(ctx.query.page ?? 1), Number(ctx.query.limit ?? 10))
  }
}

interface BenefitPatch {
  type: 'downloadables'
  description?: string | null
  properties?: { files: string[]; archived?: Record<string, boolean> } | null
}

export const patchBenefit: Handler = ctx => {
  const b = visibleBenefit(ctx)
  if (!b) return NOT_FOUND
  const body = ctx.body as BenefitPatch
  const { state } = ctx.deps
  if (body.properties) {
    const issues: ValidationIssue[] = []
    body.properties.files.forEach((id, index) => {
      const f = state.file(id)
      const selectable =
        f &&
        f.deletedAt === null &&
        f.isUploaded &&
        f.service === 'downloadable' &&
        f.organizationId === b.organizationId
      if (!selectable) {
        issues.push({
          type: 'value_error',
          loc: ['body', 'properties', 'files', index],
          msg: 'File not found.',
          input: id
        })
      }
    })
    if (issues.length) return validationError(issues)
    // `properties` replaces both lists: an omitted `archived` re-enables every archived file.
    b.files = [...body.properties.files]
    b.archived = { ...(body.properties.archived ?? {}) }
  }
  if (body.description) b.description = body.description
  b.modifiedAt = new Date().toISOString()
  return { status: 200, json: benefitRead(b) }
}
