/** Writes services/auth/openapi.json from the route schemas. */
import { writeFileSync } from 'node:fs';
import { OPENAPI_FILE, generateOpenApi } from '../src/openapi.js';

writeFileSync(OPENAPI_FILE, await generateOpenApi());
console.log(`wrote ${OPENAPI_FILE}`);
