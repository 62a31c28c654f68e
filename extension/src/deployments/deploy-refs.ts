/**
 * What the Deploy form offers and accepts: the refs a version can be served as, and the port.
 */

/** The refs a version can be deployed as: each alias pointing at it first, then the pin. */
export function deployRefs(
  name: string,
  version: number,
  aliases: string[]
): string[] {
  return [...aliases.map(a => `${name}@${a}`), `${name}/${version}`];
}

/** A port field's text as a port number (undefined: the server picks), or an error. */
export function parsePort(text: string): { port?: number; error?: string } {
  const trimmed = text.trim();
  if (!trimmed) {
    return {};
  }
  const port = Number(trimmed);
  return Number.isInteger(port) && port >= 1024 && port <= 65535
    ? { port }
    : {
        error: `Port must be a whole number from 1024 to 65535, or empty (got ${trimmed.slice(0, 10)}).`
      };
}
