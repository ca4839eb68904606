// Packages live in tests/node_modules; a bare import from bench/ would not find them, so they
// are resolved from there. Node 22 can require() the ESM-only ones too.
import { createRequire } from 'node:module';
import { join } from 'node:path';

import { testsDir } from '../../tests/lib/paths.mjs';

export const requireFromTests = createRequire(join(testsDir, 'package.json'));

export const undici = requireFromTests('undici');
