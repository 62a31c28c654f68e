/**
 * The values of the "Schedule this notebook" form: parameter fields from the notebook's
 * parameters cell, and reading what the user typed back as each parameter's type.
 */

/** One parameter of the notebook's parameters cell, as the form needs it. */
export interface IParameterField {
  /** Parameter name. */
  name: string;
  /** Python type name: int, float, bool, str, list, dict, or another name. */
  type: string;
  /** The default from the cell, as JSON (or its source text for expressions). */
  default: unknown;
}

/** What the form hands back. */
export interface IScheduleFormValue {
  /** Schedule name (empty: the server derives one). */
  name: string;
  /** Five-field cron expression. */
  cron: string;
  /** IANA timezone. */
  timezone: string;
  /** Parameters the user changed from their defaults, typed. */
  parameters: Record<string, unknown>;
  /** Seconds, or null for no limit. */
  timeout: number | null;
  /** Retries of a failed slot. */
  retries: number;
  /** What to do with slots missed while no scheduler ran. */
  catchup: string;
  /** Problems found in the typed values (the dialog refuses to go on while there are any). */
  errors: string[];
}

/** Catch-up policies of the scheduler (README "Exactly once, catch-up and daylight saving"). */
export const CATCHUP_POLICIES = ['latest', 'all', 'none'] as const;

/** The text a field starts with: its default, shown the way Python would write it. */
export function fieldText(field: IParameterField): string {
  const value = field.default;
  if (value === null || value === undefined) {
    return '';
  }
  if (typeof value === 'string') {
    return value;
  }
  return JSON.stringify(value);
}

/**
 * Read one field's text as its parameter's type.
 *
 * @returns the typed value, or an error message naming the parameter and the fix.
 */
export function parseField(
  field: IParameterField,
  text: string
): { value?: unknown; error?: string } {
  const trimmed = text.trim();
  switch (field.type) {
    case 'int':
      return /^[-+]?\d+$/.test(trimmed)
        ? { value: parseInt(trimmed, 10) }
        : { error: `${field.name} expects a whole number, such as 10.` };
    case 'float': {
      const number = Number(trimmed);
      return trimmed !== '' && isFinite(number)
        ? { value: number }
        : { error: `${field.name} expects a number, such as 0.1.` };
    }
    case 'bool':
      return { value: trimmed === 'true' };
    case 'str':
      return { value: text };
    case 'list':
    case 'dict':
      try {
        return { value: JSON.parse(trimmed) };
      } catch {
        return {
          error: `${field.name} expects a ${field.type} written as JSON, such as ${
            field.type === 'list' ? '[64, 32]' : '{"a": 1}'
          }.`
        };
      }
    default:
      // An expression or None default: the server reads the text as a Python literal.
      return { value: trimmed };
  }
}

/** The parameters that differ from their defaults, typed, plus the problems found. */
export function collectParameters(
  fields: IParameterField[],
  texts: Record<string, string>
): { parameters: Record<string, unknown>; errors: string[] } {
  const parameters: Record<string, unknown> = {};
  const errors: string[] = [];
  for (const field of fields) {
    const text = texts[field.name] ?? fieldText(field);
    if (text === fieldText(field)) {
      continue;
    }
    const parsed = parseField(field, text);
    if (parsed.error) {
      errors.push(parsed.error);
    } else {
      parameters[field.name] = parsed.value;
    }
  }
  return { parameters, errors };
}
