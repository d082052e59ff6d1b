/** Readers for one input each: its text, or its default from the table, checked for one shape. */
import { InputError } from '../errors.js'
import { INPUTS, type InputName } from './table.js'

/** One input's value, trimmed; '' when not set. */
export type Get = (name: InputName) => string

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** The value, or the input's default when it is empty. */
export function orDefault(get: Get, name: InputName): string {
  return get(name) || INPUTS[name].default
}

/** One item per line, trimmed; blank lines and `#` comments dropped. */
export function lines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map(l => l.trim())
    .filter(l => l && !l.startsWith('#'))
}

export function unique<T>(items: T[]): T[] {
  return [...new Set(items)]
}

export function oneOf<T extends string>(get: Get, name: InputName, allowed: readonly T[]): T {
  const value = orDefault(get, name)
  const found = allowed.find(a => a === value.toLowerCase())
  if (!found) {
    throw new InputError(name, `'${value}' is not one of: ${allowed.join(', ')}.`)
  }
  return found
}

export function bool(get: Get, name: InputName): boolean {
  const value = orDefault(get, name)
  if (['true', 'True', 'TRUE'].includes(value)) return true
  if (['false', 'False', 'FALSE'].includes(value)) return false
  throw new InputError(name, `'${value}' is not a boolean. Use true or false.`)
}

export function integer(get: Get, name: InputName, min: number, max: number): number {
  const value = orDefault(get, name)
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new InputError(name, `'${value}' must be a whole number from ${min} to ${max}.`)
  }
  return Number(value)
}
