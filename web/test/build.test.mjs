// The committed page (dist/index.html) and THIRD-PARTY are exactly what the sources build,
// so the installed page cannot drift from web/src.
import { test } from 'node:test';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const web = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');

test('the committed page is what the sources build', () => {
    execFileSync(process.execPath, [path.join(web, 'build.mjs'), '--check'], { stdio: 'inherit' });
});
