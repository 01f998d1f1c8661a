import fs from 'node:fs';

/** roomline's version, from its package.json: the same relative path from src/ (tests) and dist/ (the built package). */
export function packageVersion(): string {
  const manifest = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return manifest.version;
}
